"""make lab 的 JupyterLab：界面是简体中文，不弹新闻询问，双击页面以 Notebook 打开，Markdown 按 MyST 显示。

用 make lab 同样的设置（JUPYTER_CONFIG_DIR=.jupyter）启动 JupyterLab，在真实的 Chromium 里操作。
"""
import os
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import ROOT
from test_browser import CHROMIUM, CHROMIUM_FLAGS

RAW_MYST = ['{ref}', '{numref}', '{glue:text}', '{dropdown}', ':::', '{admonition}', '{doc}']


@pytest.fixture(scope='module')
def lab():
    import shutil
    if not shutil.which(CHROMIUM):
        (pytest.fail if os.environ.get('CI') else pytest.skip)('没有 Chromium：以 root 运行 make system 后即可运行')
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    workspaces = tempfile.mkdtemp()
    # make lab 的设置的一份副本：JupyterLab 运行时会往设置目录里写文件，测试不应改动仓库
    config = os.path.join(workspaces, 'config')
    shutil.copytree(ROOT / '.jupyter', config)
    # 测试要读整本 Notebook 的文字：关掉只渲染可见单元格的“窗口化”，不必靠滚动把单元格都渲染出来
    tracker = os.path.join(config, 'lab', 'user-settings', '@jupyterlab', 'notebook-extension')
    os.makedirs(tracker, exist_ok=True)
    with open(os.path.join(tracker, 'tracker.jupyterlab-settings'), 'w') as settings:
        settings.write('{"windowingMode": "none"}')
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': config}
    server = subprocess.Popen(
        [str(ROOT / '.venv' / 'bin' / 'jupyter'), 'lab', '--no-browser', '--allow-root', f'--port={port}',
         '--ServerApp.ip=127.0.0.1', '--IdentityProvider.token=course', f'--notebook-dir={ROOT}',
         f'--LabApp.workspaces_dir={os.path.join(workspaces, "workspaces")}',
         # 打开页面时 JupyterLab 会存一个检查点；放到临时目录里，不在仓库里留下 .ipynb_checkpoints
         f'--FileCheckpoints.root_dir={workspaces}', f'--AsyncFileCheckpoints.root_dir={workspaces}'],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                socket.create_connection(('127.0.0.1', port), 1).close()
                break
            except OSError:
                time.sleep(0.5)
        yield f'http://127.0.0.1:{port}/lab/tree/chapters/multilayer-perceptrons?token=course'
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(workspaces, ignore_errors=True)


def test_a_page_opens_as_a_chinese_notebook_with_myst_rendered(lab):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={'width': 1400, 'height': 1000})
        page.goto(lab)
        page.locator('.jp-DirListing-item', has_text='weight-decay.md').dblclick()
        page.wait_for_selector('.jp-Notebook .jp-MarkdownCell', timeout=60000)
        page.wait_for_timeout(3000)  # 让 MyST 渲染完、让可能的通知弹出来
        menus = page.locator('#jp-top-panel .lm-MenuBar-itemLabel').all_inner_texts()
        assert menus[:3] == ['文件', '编辑', '查看'], menus
        assert page.locator('.Toastify__toast').count() == 0, page.locator('.Toastify__toast').all_inner_texts()
        notebook = page.locator('.jp-Notebook')
        for _ in range(30):  # 长的 Notebook 只渲染看得见的单元格：一路滚到底（练习和答案在最后）
            page.evaluate("document.querySelector('.jp-Notebook .jp-WindowedPanel-outer, .jp-Notebook')"
                          ".scrollBy(0, 2000)")
            page.wait_for_timeout(150)
        page.wait_for_timeout(1000)
        text = notebook.inner_text()
        assert not [raw for raw in RAW_MYST if raw in text], '这些 MyST 写法没有被渲染'
        assert notebook.locator('details').count() >= 3, '答案应当折叠在 details 里'
        assert notebook.locator('details[open]').count() == 0, '答案默认应当折叠'
        assert notebook.locator('.jp-MarkdownCell mjx-container, .jp-MarkdownCell .katex').count() > 0, '公式应当排版'
        browser.close()


def test_deep_dives_open_folded_in_jupyterlab(lab):
    """“深入（可跳过）”的标题在 JupyterLab 里默认折叠：看得见标题，看不见里面的内容，点一下展开。"""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={'width': 1400, 'height': 1000})
        page.goto(lab.replace('multilayer-perceptrons', 'preliminaries') + '&reset')  # 不恢复上一个测试打开的标签页
        page.locator('.jp-DirListing-item', has_text='autograd.md').dblclick()
        page.wait_for_selector('.jp-Notebook .jp-MarkdownCell', timeout=60000)
        page.wait_for_timeout(3000)
        notebook = page.locator('.jp-Notebook')
        text = notebook.inner_text()
        assert '深入（可跳过）：向量–雅可比积' in text
        assert '动手验证' not in text, '深入部分的内容应当折叠起来'
        hidden = notebook.locator('.jp-showHiddenCellsButton')
        assert hidden.count() >= 2, hidden.count()
        browser.close()
