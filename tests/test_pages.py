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


def _saved_cells():
    import sys
    sys.path.insert(0, str(ROOT / '_ext'))
    import saved_cells
    return saved_cells


def test_taught_functions_are_written_on_pages_not_included_from_the_module():
    """所教的函数写在页面的代码单元里（读者能运行、能改），不是从 d2l_helpers.py 引进来的只读代码。"""
    texts = {page: page.read_text(encoding='utf-8') for page in sorted((ROOT / 'chapters').rglob('*.md'))}
    hits = [str(page.relative_to(ROOT)) for page, text in texts.items()
            if 'literalinclude' in text and 'd2l_helpers' in text]
    assert not hits, '这些页面仍用 literalinclude 显示 d2l_helpers.py 的代码：' + '，'.join(hits)


def test_saved_cells_and_the_module_define_the_same_functions():
    """每个 save 单元里的定义与 d2l_helpers.py 中的同名定义语法树相同（make helpers 把页面写进模块）。"""
    differences = _saved_cells().differences()
    assert not differences, '\n'.join(f'{page}：{name} {why}' for page, name, why in differences)


def test_every_public_helper_is_taught_on_a_page_or_listed_as_helper_only():
    saved_cells = _saved_cells()
    saved = {name for _, name, _, _ in saved_cells.saved_definitions()}
    module = saved_cells._definitions((ROOT / 'd2l_helpers.py').read_text(encoding='utf-8'))
    public = {name for name in module if not name.startswith('_')}
    assert not public - saved - set(saved_cells.HELPER_ONLY), \
        '这些函数既没有页面的 save 单元，也不在 HELPER_ONLY 里（写明原因）：' + '，'.join(sorted(public - saved - set(saved_cells.HELPER_ONLY)))
    assert not saved & set(saved_cells.HELPER_ONLY), '既在页面里教、又列为 HELPER_ONLY：' + '，'.join(sorted(saved & set(saved_cells.HELPER_ONLY)))
    assert set(saved_cells.HELPER_ONLY) <= public, '不在模块里的 HELPER_ONLY：' + '，'.join(sorted(set(saved_cells.HELPER_ONLY) - public))


def test_make_helpers_writes_a_changed_page_function_into_the_module(tmp_path):
    """改了页面里的函数却没运行 make helpers：检查说出哪一页的哪个函数；make helpers 之后一致。"""
    import shutil
    saved_cells = _saved_cells()
    shutil.copytree(ROOT / 'chapters', tmp_path / 'chapters')
    shutil.copy(ROOT / 'd2l_helpers.py', tmp_path)
    page = tmp_path / 'chapters/linear-networks/linear-regression-scratch.md'
    text = page.read_text(encoding='utf-8')
    page.write_text(text.replace('    return torch.matmul(X, w) + b\n', '    return X @ w + b\n', 1), encoding='utf-8')
    assert saved_cells.differences(tmp_path) == [
        ('chapters/linear-networks/linear-regression-scratch.md', 'linreg',
         '与 d2l_helpers.py 里的不同：改完页面后运行 make helpers')]
    assert saved_cells.write_module(tmp_path) == ['linreg']
    assert saved_cells.differences(tmp_path) == []
    module = (tmp_path / 'd2l_helpers.py').read_text(encoding='utf-8')
    assert '    return X @ w + b\n' in module and module.count('def linreg(') == 1
    # 其余部分一字不差
    assert module.replace('    return X @ w + b\n', '    return torch.matmul(X, w) + b\n') == \
        (ROOT / 'd2l_helpers.py').read_text(encoding='utf-8')


def test_a_save_cell_holds_only_definitions(tmp_path):
    import pytest
    saved_cells = _saved_cells()
    (tmp_path / 'chapters').mkdir()
    (tmp_path / 'chapters' / 'page.md').write_text(
        '```{code-cell} ipython3\n:tags: [save]\n\ndef f():\n    return 1\n\nprint(f())\n```\n', encoding='utf-8')
    with pytest.raises(saved_cells.SavedCellError, match='chapters/page.md 第 4 行'):
        saved_cells.saved_definitions(tmp_path)


DIFFICULTY = ('【基础】', '【进阶】', '【挑战】')


def _exercise_pages():
    for page in sorted((ROOT / 'chapters').rglob('*.md')):
        text = page.read_text(encoding='utf-8')
        if '\n## 练习\n' in text:
            yield page.relative_to(ROOT).as_posix(), text.split('\n## 练习\n', 1)[1].split('\n## ', 1)[0]


def test_every_exercise_has_a_difficulty_and_every_page_two_basic_ones_with_worked_code():
    """每道练习标明 【基础】/【进阶】/【挑战】；每页至少两道基础题有答案，答案里有可以运行的代码（answer 单元）。"""
    import re
    problems = []
    for page, section in _exercise_pages():
        items = re.findall(r'^(\d+)\. (.*)$', section.split(':::{dropdown}', 1)[0], re.M)
        untagged = [number for number, text in items if not text.startswith(DIFFICULTY)]
        if not items or untagged:
            problems.append(f'{page}：练习 {untagged or "（没有）"} 没有难度标记')
        # 答案的折叠框后面紧跟着 answer 代码单元（中间只能隔着隐藏的检查单元）的练习
        worked = set(re.findall(r':::\{dropdown\} 练习 (\d+) 的答案\n.*?\n:::\n\n```\{code-cell\} ipython3\n'
                                r'(?:---\n)?:?tags: \[answer\]', section, re.S))
        basic = [number for number, text in items if text.startswith('【基础】') and number in worked]
        if len(basic) < 2:
            problems.append(f'{page}：带代码答案的基础题只有 {basic}')
    assert not problems, '\n'.join(problems)


def test_deep_dives_start_their_own_cell_folded_in_jupyterlab():
    """“深入（可跳过）”的标题独占一个 Markdown 单元，并带 jp-MarkdownHeadingCollapsed：JupyterLab 折叠一个标题时
    只藏起它后面的单元，标题单元里的正文照样显示。"""
    import jupytext
    problems = []
    for page in sorted((ROOT / 'chapters').rglob('*.md')):
        for cell in jupytext.read(page).cells:
            lines = cell.source.splitlines() if cell.cell_type == 'markdown' else []
            for line in lines:
                if line.startswith('#') and line.lstrip('#').strip().startswith('深入（可跳过）'):
                    if len(lines) != 1 or not cell.metadata.get('jp-MarkdownHeadingCollapsed'):
                        problems.append(f'{page.relative_to(ROOT)}：{line}')
    assert not problems, ('在这些标题前加一行 +++ {"jp-MarkdownHeadingCollapsed": true}，标题后加一行 +++：\n'
                          + '\n'.join(problems))
