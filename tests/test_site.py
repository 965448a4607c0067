"""已构建的网站（_build/html）：每页都在，读者看不到错误输出，内部链接都能打开。"""
import html.parser
import pathlib
import re
import subprocess
import urllib.parse

import pytest
import yaml

from conftest import ROOT

pytestmark = pytest.mark.site
HTML = ROOT / '_build' / 'html'


def all_toc_files():
    toc = yaml.safe_load((ROOT / '_toc.yml').read_text(encoding='utf-8'))
    files = [toc['root']]

    def walk(entries):
        for entry in entries:
            if 'file' in entry:
                files.append(entry['file'])
            walk(entry.get('sections', []))
    for part in toc.get('parts', []):
        walk(part['chapters'])
    return files


@pytest.fixture(scope='module')
def pages():
    if not (HTML / 'index.html').exists():
        pytest.fail('没有找到 _build/html：先运行 make book')
    return {name: (HTML / f'{name}.html') for name in all_toc_files()}


def test_every_page_in_the_toc_is_built(pages):
    missing = [name for name, path in pages.items() if not path.exists()]
    assert not missing, f'这些页面没有生成 HTML：{missing}'


@pytest.mark.parametrize('marker', ['output stderr', 'output traceback', 'Traceback (most recent call last)',
                                    '&lt;Figure size', 'UserWarning', 'DeprecationWarning'])
def test_no_page_shows_errors_or_warnings(pages, marker):
    noisy = [name for name, path in pages.items() if marker in path.read_text(encoding='utf-8')]
    assert not noisy, f'这些页面向读者显示了 {marker!r}：{noisy}'


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if 'id' in attrs:
            self.ids.add(attrs['id'])
        if tag == 'a' and attrs.get('href'):
            self.links.append(attrs['href'])
        if tag in ('img', 'script') and attrs.get('src'):
            self.links.append(attrs['src'])
        if tag == 'link' and attrs.get('href'):
            self.links.append(attrs['href'])


def _parse(path, cache={}):
    if path not in cache:
        parser = _Links()
        parser.feed(path.read_text(encoding='utf-8'))
        cache[path] = parser
    return cache[path]


def test_internal_links_and_anchors_resolve(pages):
    broken = []
    for name, path in pages.items():
        for link in _parse(path).links:
            url = urllib.parse.urlparse(link)
            if url.scheme or url.netloc or link.startswith('mailto:'):
                continue
            target = (path.parent / urllib.parse.unquote(url.path)).resolve() if url.path else path
            if target.is_dir():
                target = target / 'index.html'
            if not target.exists():
                broken.append(f'{name}: {link}（文件不存在）')
            elif url.fragment and target.suffix == '.html' and url.fragment not in _parse(target).ids:
                broken.append(f'{name}: {link}（锚点不存在）')
    assert not broken, '失效的内部链接：\n' + '\n'.join(broken)


def test_unchanged_rebuild_executes_nothing():
    result = subprocess.run(['make', '--no-print-directory', '-C', str(ROOT), 'book'],
                            capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # 并行执行时打印“执行 N 个页面”和 “Executed notebook”；MyST-NB 自己执行时打印 “Executing”。
    for sign in ('Executing', 'Executed notebook', '个页面'):
        assert sign not in output, '第二次构建不应重新执行任何页面：\n' + output


MYST_MARKUP = re.compile(r'\{[a-z:]+\}`|^:::|^```\{|^\([\w.-]+\)=|\$\$[ \t]*\(', re.M)


@pytest.mark.parametrize('name', [n for n in all_toc_files() if n.startswith('chapters/')])
def test_downloaded_notebook_reads_like_a_notebook(name):
    import nbformat
    import jupytext
    downloaded = nbformat.read(HTML / '_sources' / f'{name}.ipynb', as_version=4)
    source = jupytext.read(ROOT / f'{name}.md')
    shown = [c for c in source.cells if 'remove-cell' not in c.metadata.get('tags', [])]
    # 有代码的页面开头是说明和安装单元，其后是网站上看得到的单元格，一个不多、一个不少；没有代码的页面不加
    head = 2 if any(c.cell_type == 'code' for c in shown) else 0
    if head:
        assert downloaded.cells[0].cell_type == 'markdown' and 'd2l_helpers' in downloaded.cells[0].source
        assert 'import d2l_helpers' in downloaded.cells[1].source
    assert [c.cell_type for c in downloaded.cells[head:]] == [c.cell_type for c in shown]
    assert [c.source for c in downloaded.cells[head:] if c.cell_type == 'code'] == \
        [c.source for c in shown if c.cell_type == 'code']
    raw = [c.source[:200] for c in downloaded.cells if c.cell_type == 'markdown' and MYST_MARKUP.search(c.source)]
    assert not raw, raw
    # 答案的代码在 JupyterLab 里也先折叠；可跳过的深入部分的标题带着折叠标记
    answers = [c for c in downloaded.cells if 'answer' in c.metadata.get('tags', [])]
    assert all(c.metadata.get('jupyter', {}).get('source_hidden') for c in answers)
    deep = [c for c in downloaded.cells if c.cell_type == 'markdown' and c.source.lstrip('#').lstrip().startswith('深入（可跳过）')]
    assert all(c.metadata.get('jp-MarkdownHeadingCollapsed') for c in deep), [c.source[:60] for c in deep]


def test_pages_and_figures_are_numbered_like_the_book():
    """第 2 章起编号：第 k 章的首页是 k.，它的第 j 节是 k.j.；每章的图从 图 k.1 起连续编号，跨页不重来。"""
    toc = yaml.safe_load((ROOT / '_toc.yml').read_text(encoding='utf-8'))
    chapters = [c for part in toc['parts'] if part.get('numbered') for c in part['chapters']]
    assert len(chapters) == 3
    for k, chapter in enumerate(chapters, start=2):
        figures = []
        for j, page in enumerate([chapter] + chapter.get('sections', [])):
            html = (HTML / f"{page['file']}.html").read_text(encoding='utf-8')
            h1 = re.search(r'<h1><span class="section-number">([\d.]+) </span>', html)
            assert h1 and h1.group(1) == (f'{k}.{j}.' if j else f'{k}.'), (page['file'], h1 and h1.group(1))
            figures += re.findall(r'<span class="caption-number">图 ([\d.]+) </span>', html)
        assert figures == [f'{k}.{i}' for i in range(1, len(figures) + 1)], (k, figures)
    # 附录（术语表）不编号
    assert '<span class="section-number">' not in re.search(r'<h1>.*?</h1>', (HTML / 'chapters/glossary.html').read_text(encoding='utf-8').split('<article')[1], re.S).group(0)


CONTENT_PAGES = [n for n in all_toc_files() if n.startswith('chapters/') and not n.endswith('index') and 'glossary' not in n]


@pytest.mark.parametrize('name', CONTENT_PAGES)
def test_every_page_opens_with_goals_prerequisites_and_a_computed_reading_time(name):
    """“本节导览”框：学完本节你能…、先修（链接）、约需 N 分钟——时间由构建按正文算出，页面源文件里没有这个数。"""
    import pickle
    import sys
    sys.path.insert(0, str(ROOT / '_ext'))
    from course import reading_minutes
    source = (ROOT / f'{name}.md').read_text(encoding='utf-8')
    typed = re.search(r':::\{admonition\} 本节导览\n:class: page-goals\n(.*?)\n:::', source, re.S)
    assert typed and '分钟' not in typed.group(1), f'{name}：导览框要有，阅读时间不能手写'
    html = (HTML / f'{name}.html').read_text(encoding='utf-8')
    box = re.search(r'<div class="[^"]*page-goals[^"]*">(.*?)</div>', html, re.S)
    assert box, f'{name} 没有“本节导览”框'
    text = re.sub(r'<[^>]+>', '', box.group(1))
    assert '学完本节你能' in text and '先修' in text
    assert name == CONTENT_PAGES[0] or '<a class="reference internal"' in box.group(1), '先修应当链到前面的小节'
    doctree = pickle.loads((ROOT / '_build' / '.doctrees' / f'{name}.doctree').read_bytes())
    assert f'约需 {reading_minutes(doctree)} 分钟' in text, text
    # 导览框在第一个代码单元和第一个二级标题之前
    body = html[html.index('<article'):]
    assert body.index('page-goals') < min(i for i in (body.find('cell docutils container'), body.find('<h2>')) if i > 0)
