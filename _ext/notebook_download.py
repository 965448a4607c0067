"""下载菜单里的 .ipynb：读者在 Jupyter 或 Colab 里打开它时，看到的应当是一个普通的 Notebook。

网站上的页面不受影响。下载的这一份：
- 去掉网站上隐藏的单元格（核对正文的检查、glue 数值的计算）；
- 把 MyST 写法换成普通 Markdown：glue 换成数值，交叉引用换成指向已发布网站的链接（不知道网址时只留文字），
  带编号的公式写上编号，答案折叠在 <details> 里，提示框变成引用块；
- 有代码的页面开头加一段说明和一个代码单元：没装 d2l_helpers 时从课程仓库安装它。
"""
import re
from urllib.parse import urljoin

import nbformat
from docutils import nodes
from myst_nb.core.variables import format_plain_text
from sphinx import addnodes

ROLE = re.compile(r'\{(ref|numref|eq|doc|term|glue|glue:text)\}`([^`]+)`')
LABEL_LINE = re.compile(r'^\([\w.:-]+\)=[ \t]*(?:\n|\Z)', re.M)
LABELLED_MATH = re.compile(r'\$\$(.+?)\$\$[ \t]*\(([\w.:-]+)\)', re.S)
FENCE = re.compile(r'^(:::+|```+)\{([\w:-]+)\}[ \t]*(.*?)\n(.*?)^\1[ \t]*$', re.S | re.M)


def site_url(app):
    """已发布网站的网址（以 / 结尾）：html_baseurl，或由 GitHub 仓库推出的 GitHub Pages 地址；都没有时为 None。"""
    if app.config.html_baseurl:
        return app.config.html_baseurl.rstrip('/') + '/'
    repository = repository_url(app)
    match = re.match(r'https://github\.com/([^/]+)/([^/]+?)/?$', repository)
    return f'https://{match.group(1).lower()}.github.io/{match.group(2)}/' if match else None


def repository_url(app):
    """课程仓库的地址（构建时从 git 的 origin 读到的，见 course._repository_button）；不知道时为空。"""
    options = app.config.html_theme_options
    # Jupyter Book 的默认配置里总有一个 repository_url（它自己的仓库），只有打开了仓库按钮时才是本书的。
    return options.get('repository_url', '') if options.get('use_repository_button') else ''


def glue_values(notebook):
    """页面里 glue(...) 保存的值：名字 → text/plain。"""
    values = {}
    for cell in notebook.cells:
        for output in cell.get('outputs', []):
            scrapbook = output.get('metadata', {}).get('scrapbook', {})
            key = scrapbook.get('mime_prefix', '') + 'text/plain'
            if scrapbook.get('name') and key in output.get('data', {}):
                values[scrapbook['name']] = output['data'][key]
    return values


def resolve(app, docname, role, content):
    """用 Sphinx 解析一个交叉引用，返回 (文字, 网站内的相对地址或 None)。"""
    explicit = re.match(r'^(.*?)\s*<([^<>]+)>$', content, re.S)
    title, target = (explicit.group(1), explicit.group(2)) if explicit else (None, content)
    if role == 'term':
        target = target.lower()
    domain = app.env.get_domain('math' if role == 'eq' else 'std')
    node = addnodes.pending_xref('', refdomain=domain.name, reftype=role, reftarget=target,
                                 refexplicit=bool(explicit), refdoc=docname)
    contnode = nodes.inline(title or target, title or target)
    try:
        ref = domain.resolve_xref(app.env, docname, app.builder, role, target, node, contnode)
    except Exception:  # 解析不了的引用在网站构建时已经报过警告
        ref = None
    if ref is None:
        return title or target, None
    uri = ref.get('refuri') or ('#' + ref['refid'] if ref.get('refid') else None)
    return ref.astext(), uri


def plain_markdown(app, docname, text, glue):
    base = site_url(app)
    page = f'{base}{docname}.html' if base else None

    def link(text, uri, kind):
        if not (page and uri):
            return f'“{text}”' if kind in ('ref', 'doc') else text
        return f'[{text}]({urljoin(page, uri)})'

    def role(match):
        kind, content = match.groups()
        if kind.startswith('glue'):
            key, _, fmt = content.partition(':')
            return format_plain_text(glue[key], fmt) if key in glue else content
        return link(*resolve(app, docname, kind, content), kind)

    def labelled_math(match):
        number, _ = resolve(app, docname, 'eq', match.group(2))
        tag = number.strip('()') if number != match.group(2) else ''
        return f'$${match.group(1).rstrip()}\\tag{{{tag}}}\n$$' if tag else f'$${match.group(1)}$$'

    def directive(match):
        _, name, argument, body = match.groups()
        body = re.sub(r'^:[\w-]+:.*\n', '', body, flags=re.M).strip('\n')
        if name == 'dropdown':
            return f'<details>\n<summary>{argument}</summary>\n\n{body}\n\n</details>\n'
        if name == 'glossary':
            entries = re.findall(r'^(\S.*)\n((?:[ \t]+.*\n?)+)', body + '\n', re.M)
            return '\n'.join(f'- **{term}**：{" ".join(d.split())}' for term, d in entries) + '\n'
        title = argument or {'note': '注意', 'warning': '警告', 'tip': '提示'}.get(name, name)
        quoted = '\n'.join(f'> {line}' if line else '>' for line in body.splitlines())
        return f'> **{title}**\n>\n{quoted}\n'

    text = LABEL_LINE.sub('', text)
    text = FENCE.sub(directive, text)
    text = LABELLED_MATH.sub(labelled_math, text)
    return ROLE.sub(role, text)


def install_cells(app):
    """下载的 Notebook 开头的说明和安装单元。"""
    repository = repository_url(app)
    site = site_url(app)
    where = f'网站上的原页面：{site}\n\n' if site else ''
    intro = nbformat.v4.new_markdown_cell(
        '这是《动手学深度学习 · 可执行课程》的一页，从课程网站下载。' + where
        + '页面用到课程的辅助模块 `d2l_helpers`（以及 PyTorch、torchvision、matplotlib、pandas）。'
        '先运行下面的单元格：已经装好时它什么也不做，没有时从课程仓库安装。然后从上到下依次运行。'
        'Fashion-MNIST 数据第一次用到时下载到用户的缓存目录（也可以用环境变量 `D2L_DATA_DIR` 指定文件夹）。')
    if repository:
        code = ('# 没有 d2l_helpers 时，从课程仓库安装（只需一次）\n'
                'try:\n    import d2l_helpers\n'
                'except ModuleNotFoundError:\n'
                f'    %pip install -q "d2l-zh-course[notebooks] @ git+{repository}"')
    else:
        code = ('# 没有 d2l_helpers 时，说明怎样安装\n'
                'try:\n    import d2l_helpers\n'
                'except ModuleNotFoundError:\n'
                "    raise ModuleNotFoundError('没有找到 d2l_helpers：在课程仓库的目录里运行 pip install .，'\n"
                "                              '或者把仓库里的 d2l_helpers.py 放到这个 Notebook 所在的文件夹。') from None")
    return [intro, nbformat.v4.new_code_cell(code)]


def downloadable(app, docname, notebook):
    """把执行过的页面变成供下载的 Notebook（就地修改并返回）。"""
    glue = glue_values(notebook)
    cells = []
    for cell in notebook.cells:
        if 'remove-cell' in cell.metadata.get('tags', []):
            continue
        if cell.cell_type == 'markdown':
            cell.source = plain_markdown(app, docname, cell.source, glue)
        elif 'answer' in cell.metadata.get('tags', []):
            # 答案的代码跟在折叠的答案文字后面，在 JupyterLab 里同样先折叠起来（点一下展开）
            cell.metadata.setdefault('jupyter', {}).update(source_hidden=True, outputs_hidden=True)
        cells.append(cell)
    # 没有代码的页面（各章首页、术语表）不需要安装单元
    has_code = any(cell.cell_type == 'code' for cell in cells)
    notebook.cells = (install_cells(app) if has_code else []) + cells
    return notebook
