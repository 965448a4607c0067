"""在真实浏览器（Debian 的 Chromium，由 Playwright 驱动）里打开构建好的网站。

网站由本机 127.0.0.1 上的服务器提供；发往其他任何主机的请求都被拦下并记录，
所以断网或 CDN 被挡时读者看到的，就是这里看到的。
"""
import functools
import os
import http.server
import shutil
import threading
import urllib.parse

import pytest

from test_site import HTML, ROOT, all_toc_files

pytestmark = pytest.mark.site
# 浏览器：环境变量 D2L_CHROMIUM（例如 CI 里 runner 预装的 Google Chrome），否则 Debian 的 chromium。
CHROMIUM = os.environ.get('D2L_CHROMIUM') or shutil.which('chromium') or '/usr/bin/chromium'
CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync']
# 会训练模型、因而应当显示图的页面。
TRAINING_PAGES = ['chapters/linear-networks/softmax-regression-scratch',
                  'chapters/linear-networks/softmax-regression-concise',
                  'chapters/multilayer-perceptrons/mlp-scratch',
                  'chapters/multilayer-perceptrons/mlp-concise',
                  'chapters/multilayer-perceptrons/dropout']
SEARCHES = {'线性回归': 'chapters/linear-networks/linear-regression',
            'softmax': 'chapters/linear-networks/softmax-regression',
            '暂退法': 'chapters/multilayer-perceptrons/dropout'}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope='module')
def site():
    if not (HTML / 'index.html').exists():
        pytest.fail('没有找到 _build/html：先运行 make book')
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{server.server_port}/'
    server.shutdown()


@pytest.fixture(scope='module')
def browser():
    if not shutil.which(CHROMIUM):
        (pytest.fail if os.environ.get('CI') else pytest.skip)('没有 Chromium：以 root 运行 make system 安装 Debian 的 chromium 包后即可运行浏览器测试')
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, site):
    """一个浏览器标签页：记录控制台错误和发往其他主机的请求（并拦下它们）。"""
    context = browser.new_context()
    tab = context.new_page()
    tab.errors, tab.outside = [], []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(site) or url.startswith('data:'):
            request_route.continue_()
        else:
            tab.outside.append(url)
            request_route.abort()

    tab.route('**/*', route)
    tab.on('console', lambda msg: tab.errors.append(msg.text) if msg.type == 'error' else None)
    tab.on('pageerror', lambda err: tab.errors.append(str(err)))
    tab.site = site
    yield tab
    context.close()


def existing(pages):
    return [p for p in pages if (HTML / f'{p}.html').exists()]


@pytest.mark.parametrize('name', all_toc_files())
def test_page_loads_cleanly_and_typesets_its_math(page, name):
    page.goto(page.site + f'{name}.html', wait_until='networkidle')
    if page.locator('.math').count():
        page.wait_for_selector('mjx-container', state='attached', timeout=15000)
        assert page.locator('mjx-container').count() >= page.locator('.math').count()
    assert page.errors == [], f'{name} 的控制台错误：{page.errors}'
    assert page.outside == [], f'{name} 请求了其他主机：{page.outside}'


@pytest.mark.parametrize('name', existing(TRAINING_PAGES))
def test_training_pages_show_their_figures(page, name):
    page.goto(page.site + f'{name}.html', wait_until='networkidle')
    figures = page.locator('.cell_output img')
    assert figures.count() >= 1, f'{name} 没有显示训练曲线'
    for i in range(figures.count()):
        width = figures.nth(i).evaluate('img => img.naturalWidth')
        assert width > 0, f'{name} 的第 {i + 1} 张图没有加载出来'


@pytest.mark.parametrize('word', SEARCHES)
def test_search_finds_the_right_page(page, word):
    expected = SEARCHES[word]
    if not (HTML / f'{expected}.html').exists():
        pytest.skip(f'{expected} 尚未构建')
    page.goto(page.site + 'search.html?q=' + urllib.parse.quote(word), wait_until='networkidle')
    page.wait_for_selector('#search-results li', timeout=15000)
    hits = page.locator('#search-results li a').evaluate_all('links => links.map(a => a.href)')
    assert any(f'{expected}.html' in hit for hit in hits[:5]), f'搜索“{word}”的前几条结果：{hits[:5]}'


@pytest.mark.parametrize('name', [n for n in all_toc_files() if n.startswith('chapters/') and not n.endswith('index')])
def test_download_links_return_the_page_files(page, name):
    page.goto(page.site + f'{name}.html', wait_until='networkidle')
    links = page.locator('.dropdown-download-buttons a').evaluate_all('links => links.map(a => a.href)')
    notebook = [url for url in links if url.endswith('.ipynb')]
    source = [url for url in links if url.endswith('.md')]
    assert notebook and source, f'{name} 的下载菜单：{links}'
    for url in notebook + source:
        response = page.request.get(url)
        assert response.ok, f'{url} 返回 {response.status}'
    executed = page.request.get(notebook[0]).json()
    code = [cell for cell in executed['cells'] if cell['cell_type'] == 'code']
    # 没有代码单元的页面（术语表）下载下来也不该凭空多出代码；有代码的页面必须带着执行结果。
    assert bool(code) == ('```{code-cell}' in (ROOT / f'{name}.md').read_text(encoding='utf-8'))
    if code:
        assert [o for cell in code for o in cell.get('outputs', [])], f'{notebook[0]} 里没有执行结果'
    assert page.request.get(source[0]).text().startswith('---\njupytext:')



# axe-core（WCAG 2.1 A/AA 规则，外加实验性的 label-content-name-mismatch）：不允许严重（serious）和致命（critical）问题。
AXE_OPTIONS = {'runOnly': {'type': 'tag', 'values': ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'experimental']},
               'resultTypes': ['violations']}


@pytest.mark.parametrize('name', all_toc_files())
def test_page_has_no_serious_accessibility_violations(page, name):
    from axe_playwright_python.sync_playwright import Axe
    page.goto(page.site + f'{name}.html', wait_until='networkidle')
    violations = Axe().run(page, options=AXE_OPTIONS).response['violations']
    serious = [f"{v['id']}（{v['impact']}，{len(v['nodes'])} 处）：{v['nodes'][0]['html'][:120]}"
               for v in violations if v['impact'] in ('serious', 'critical')]
    assert not serious, f'{name} 的无障碍问题：\n' + '\n'.join(serious)


def test_search_excerpts_show_prose_not_latex_or_menus(page):
    page.goto(page.site + 'search.html?q=' + urllib.parse.quote('权重衰减'), wait_until='networkidle')
    page.wait_for_selector('#search-results li p.context', timeout=15000)
    excerpts = page.locator('#search-results li p.context').all_inner_texts()
    assert excerpts and all(text.strip() for text in excerpts)
    for text in excerpts:
        assert '\\(' not in text and '\\lambda' not in text, text
        assert '.ipynb' not in text and '.pdf' not in text and '.md' not in text, text
