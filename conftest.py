"""让 `pytest --nbval chapters` 像执行 .ipynb 一样执行章节里的 MyST 页面。

nbval 只收集 *.ipynb；这里把带 jupytext 头信息的 chapters/**/*.md 用 jupytext 读成笔记本交给 nbval，
失败时报告为 chapters/…/page.md::Cell N。
"""
from unittest import mock

import jupytext
import nbformat
from nbval.plugin import IPyNbFile

collect_ignore_glob = ['_build/*', '.venv/*']


def _is_myst_notebook(path):
    if path.suffix != '.md' or '_build' in path.parts:
        return False
    head = path.read_text(encoding='utf-8')[:2000]
    return head.startswith('---') and 'jupytext:' in head and 'kernelspec:' in head


def _read_myst(path, as_version=4):
    notebook = jupytext.read(path)
    for cell in notebook.cells:
        tags = cell.metadata.get('tags', [])
        # 构建时跳过的单元格（skip-execution）在 nbval 中同样跳过。
        if 'skip-execution' in tags and 'nbval-skip' not in tags:
            cell.metadata['tags'] = tags + ['nbval-skip']
    return notebook


def pytest_collect_file(file_path, parent):
    option = parent.config.option
    if (getattr(option, 'nbval', False) or getattr(option, 'nbval_lax', False)) \
            and _is_myst_notebook(file_path):
        return MystNotebook.from_parent(parent, path=file_path)



class MystNotebook(IPyNbFile):
    """nbval 的笔记本收集器，只是把读文件的方式换成 jupytext。"""

    def collect(self):
        # nbval 在 collect 中用 nbformat.read 读取文件；收集期间换成 jupytext 读取 MyST。
        with mock.patch.object(nbformat, 'read', _read_myst):
            yield from super().collect()
