"""让 `pytest --nbval chapters` 像执行 .ipynb 一样执行章节里的 MyST 页面。

nbval 只收集 *.ipynb；这里把带 jupytext 头信息的 chapters/**/*.md 用 jupytext 读成笔记本交给 nbval，
失败时报告为 chapters/…/page.md::Cell N。
"""
import os
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


def pytest_configure(config):
    # nbval 的内核继承这些环境变量。没有人看着训练曲线，Animator 只画最后一张（见 d2l_helpers）。
    os.environ.setdefault('D2L_LIVE_PLOTS', '0')
    # 用 pytest-xdist 并行（-n）时，每个 worker 的内核分到 CPU 核数 / worker 数个 PyTorch 线程；
    # 不限制的话每个内核都按全部核数开线程，互相争抢，反而慢好几倍。
    workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))
    if workers > 1:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count() or 1
        for name in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
            os.environ.setdefault(name, str(max(1, cpus // workers)))


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
