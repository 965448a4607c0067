"""本书对 Jupyter Book 的两处小调整。

1. 章节编号从 2 开始，与《动手学深度学习》一致（预备知识是第 2 章，2.1 数据操作 …）。
   Sphinx 的编号总从 1 开始；这里在它分配完节号之后、分配图号之前，把每个编号的第一位加上
   `chapter_number_offset`。图、表、公式的编号（图 3.1 …）随之改变。
2. 每页的“下载”菜单里加上执行过的 .ipynb（带输出），读者可以直接在 Jupyter 或 Colab 中打开。
3. 仓库按钮：构建时从 git 的 origin 远程地址得到仓库网址（例如在 GitHub Actions 中），
   没有远程地址时不显示按钮，而不是链接到一个错误的地址。
4. 去掉 sphinx-thebe 的脚本：本书不在页面里启动远程内核，而它会把同一段脚本插入两次
   （浏览器报 “Identifier 'THEBE_JS_URL' has already been declared”），还指向外部 CDN。
"""
import re
import subprocess
from pathlib import Path

import jupytext
import nbformat
from docutils import nodes
from jupyter_cache import get_cache
from sphinx_external_toc.collectors import TocTreeCollectorWithStyles


def _shift(number, offset):
    return type(number)([number[0] + offset, *number[1:]]) if number else number


def _patch(app):
    offset = app.config.chapter_number_offset
    # Jupyter Book 用 sphinx-external-toc 的收集器给目录编号，它最后一步会重排章号，所以包在它外面。
    assign = TocTreeCollectorWithStyles.assign_section_numbers

    def assign_with_offset(self, env):
        rewrite_needed = assign(self, env)
        for docname, secnums in env.toc_secnumbers.items():
            for anchor, number in secnums.items():
                secnums[anchor] = _shift(number, offset)
            for node in env.tocs[docname].findall(nodes.Element):
                if node.get('secnumber'):
                    node['secnumber'] = _shift(node['secnumber'], offset)
            title = env.titles.get(docname)
            if title is not None and title.get('secnumber'):
                title['secnumber'] = _shift(title['secnumber'], offset)
        return rewrite_needed

    TocTreeCollectorWithStyles.assign_section_numbers = assign_with_offset


def _drop_thebe(app, pagename, templatename, context, doctree):
    context['script_files'] = [
        js for js in context.get('script_files', [])
        if 'thebe' not in (js.filename or '') and 'THEBE' not in js.attributes.get('body', '')]
    context['css_files'] = [css for css in context.get('css_files', [])
                            if 'thebe' not in (css.filename or '')]


def _offer_notebook(app, pagename, templatename, context, doctree):
    # 缓存模式下 MyST-NB 写到 _build/jupyter_execute/ 的笔记本不带输出，这里从执行缓存取出带输出的版本，
    # 写到 _sources/ 中；主题看到 ipynb_source 就会在下载菜单里加上 .ipynb。
    source = Path(app.srcdir) / f'{pagename}.md'
    if doctree is None or not source.exists() or 'kernelspec' not in source.read_text(encoding='utf-8')[:2000]:
        return
    cache = get_cache(Path(app.outdir).parent / '.jupyter_cache')
    try:
        _, notebook = cache.merge_match_into_notebook(jupytext.read(source))
    except KeyError:  # 页面没有执行过（例如执行被关闭）
        return
    target = Path(app.outdir) / '_sources' / f'{pagename}.ipynb'
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    context['ipynb_source'] = f'{pagename}.ipynb'


def _repository_button(app, config):
    try:
        remote = subprocess.run(['git', 'remote', 'get-url', 'origin'], cwd=app.srcdir,
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return
    match = re.match(r'(?:https://|git@)github\.com[/:](.+?)(?:\.git)?$', remote)
    if match:
        options = config.html_theme_options
        options['repository_url'] = f'https://github.com/{match.group(1)}'
        options['repository_branch'] = 'main'
        options['use_repository_button'] = True


def setup(app):
    app.add_config_value('chapter_number_offset', 0, 'env')
    app.connect('builder-inited', _patch)
    app.connect('config-inited', _repository_button)
    app.connect('html-page-context', _drop_thebe)
    app.connect('html-page-context', _offer_notebook, priority=400)  # 在主题生成下载菜单之前
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
