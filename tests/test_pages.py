"""页面自成一体：读者看到的内容里不提课程素材（学习笔记）。"""
import re

from conftest import ROOT

# “笔记本电脑”（laptop）可以出现；“笔记”本身不行。
NOTES = re.compile(r'笔记(?!本)')


def test_no_page_mentions_the_notes():
    pages = sorted((ROOT / 'chapters').rglob('*.md')) + [ROOT / 'intro.md']
    hits = [f'{page.relative_to(ROOT)}:{number}: {line.strip()[:80]}'
            for page in pages if not {'_build', '.ipynb_checkpoints'} & set(page.parts)
            for number, line in enumerate(page.read_text(encoding='utf-8').splitlines(), 1)
            if NOTES.search(line)]
    assert not hits, '页面不应提到笔记（改写成页面自己的说法，见 issue 12）：\n' + '\n'.join(hits)


def test_saving_a_page_in_jupyterlab_changes_nothing(tmp_path):
    """JupyterLab 通过 jupytext 的内容管理器读写 .md 页面；打开后原样保存，文件应当一字不变。"""
    from jupytext import TextFileContentsManager
    pages = [page for page in sorted((ROOT / 'chapters').rglob('*.md')) + [ROOT / 'intro.md']
             if not {'_build', '.ipynb_checkpoints'} & set(page.parts) and page.read_text(encoding='utf-8').startswith('---\njupytext:')]
    manager = TextFileContentsManager(root_dir=str(tmp_path))
    changed = []
    for page in pages:
        text = page.read_text(encoding='utf-8')
        (tmp_path / 'page.md').write_text(text, encoding='utf-8')
        manager.save(manager.get('page.md'), 'page.md')
        if (tmp_path / 'page.md').read_text(encoding='utf-8') != text:
            changed.append(str(page.relative_to(ROOT)))
    assert len(pages) >= 24
    assert not changed, '这些页面在 JupyterLab 中保存后会改变，运行 make format：\n' + '\n'.join(changed)


def _names(source):
    """一个代码单元定义的名字和读取的名字（同一单元里先定义后使用的不算读取外面的）。"""
    import ast
    defined, used = set(), set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((alias.asname or alias.name).split('.')[0] for alias in node.names)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            defined.add(node.name)
    return defined, used - defined


def test_visible_code_never_needs_a_hidden_cell():
    """下载的 Notebook 去掉了网站上隐藏的单元格：看得见的代码不能用只在隐藏单元里定义的名字
    （导入、变量、函数），否则读者从头运行到尾会遇到 NameError。"""
    import jupytext
    problems = []
    for page in sorted((ROOT / 'chapters').rglob('*.md')):
        visible, hidden = set(), set()
        for cell in jupytext.read(page).cells:
            if cell.cell_type != 'code' or cell.source.lstrip().startswith(('%', '!')):
                continue
            defined, used = _names(cell.source)
            if 'remove-cell' in cell.metadata.get('tags', []):
                hidden |= defined
                continue
            missing = (used & hidden) - visible
            if missing:
                problems.append(f'{page.relative_to(ROOT)}：{sorted(missing)} 只在隐藏单元里定义，却用在：{cell.source[:60]!r}')
            visible |= defined
    assert not problems, '\n'.join(problems)
