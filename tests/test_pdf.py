"""PDF：make pdf 把书排成一个 PDF。

一本小书的 PDF 每次 make test 都构建一遍（LaTeX 这条路不会悄悄坏掉）；整本书的 PDF 由 make test-pdf 检查。
"""
import os
import re
import shutil
import subprocess

import pytest
from conftest import ROOT, code_cell
from test_site import HTML, all_toc_files

PDF = ROOT / '_build' / 'pdf' / 'd2l-course.pdf'
NUMBERED_TOC = 'format: jb-book\nroot: intro\nparts:\n  - caption: 课程\n    numbered: true\n    chapters:\n      - file: chapters/page\n'


def need_tex():
    if not shutil.which('xelatex') or not shutil.which('pdftotext'):
        (pytest.fail if os.environ.get('CI') else pytest.skip)('没有 TeX：以 root 运行 make tex 安装排 PDF 用的 Debian 包')


def make_pdf(book):
    result = subprocess.run(['make', '--no-print-directory', '-C', str(ROOT), 'pdf', f'BOOK={book}'],
                            capture_output=True, text=True, timeout=900)
    return result.returncode, result.stdout + result.stderr


def text_of(pdf):
    return subprocess.run(['pdftotext', str(pdf), '-'], capture_output=True, text=True, check=True).stdout


def fonts_of(pdf):
    """pdffonts 的每一行：(字体名, 是否嵌入)。"""
    lines = subprocess.run(['pdffonts', str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    return [(line.split()[0], line.split()[-5]) for line in lines]


def images_in(pdf):
    lines = subprocess.run(['pdfimages', '-list', str(pdf)], capture_output=True, text=True, check=True).stdout
    return lines.splitlines()[2:]


LONG_LINE = "print('开头' + ''.join(f' 第{i}项' for i in range(40)) + ' 行尾END')"
PLOT = """---
mystnb:
  figure:
    caption: 一条抛物线
    name: fig-tiny
---
import matplotlib.pyplot as plt
from matplotlib_inline import backend_inline
backend_inline.set_matplotlib_formats('svg')
plt.plot(range(10), [i * i for i in range(10)])
plt.show()"""
TEXT = r"""
(sec-tiny)=
## 小节

$$
y = \frac{1}{2} x^2
$$ (eq-tiny)

引用：{ref}`sec-tiny`、公式 {eq}`eq-tiny`、{numref}`fig-tiny`。

:::{dropdown} 练习 1 的答案
答案正文 ANSWERMARK
:::
"""


def test_tiny_book_pdf(tiny_book):
    need_tex()
    book, write_page = tiny_book
    write_page(TEXT, code_cell(LONG_LINE), code_cell(PLOT),
               code_cell('HIDDENMARK = 1\nassert HIDDENMARK', tags=['remove-cell']))
    (book / '_toc.yml').write_text(NUMBERED_TOC)
    code, output = make_pdf(book)
    assert code == 0, output
    pdf = book / '_build' / 'pdf' / 'd2l-course.pdf'
    text = text_of(pdf)
    flat = re.sub(r'\s+', '', text)  # pdftotext 在等宽字体的中文之间插空格
    # 章节按网站的编号（第 2 章、2.1），图和公式带章号，交叉引用都解析了
    assert '第2章页面page' in flat and '2.1小节' in flat, text[:2000]
    assert re.search(r'图 2\.1\s*[:：]?\s*一条抛物线', text) and '(2.1)' in text, text
    assert '??' not in text
    # 长的代码行折行而不是被截掉；折叠的答案展开；隐藏的检查单元不出现
    assert all(f'第{i}项' in flat for i in range(40)) and '行尾END' in flat
    assert '练习1的答案答案正文ANSWERMARK' in flat
    assert 'HIDDENMARK' not in flat
    # 字体都嵌入了，中文用 CJK 字体；图和公式是矢量的，PDF 里没有位图
    fonts = fonts_of(pdf)
    assert fonts and all(embedded == 'yes' for _, embedded in fonts), fonts
    assert any('CJK' in name for name, _ in fonts), fonts
    assert images_in(pdf) == []
    # 网站的下载菜单和首页链到 PDF
    page = (book / '_build' / 'html' / 'chapters' / 'page.html').read_text(encoding='utf-8')
    assert 'download-book-pdf-button' in page and '../d2l-course.pdf' in page
    assert (book / '_build' / 'html' / 'd2l-course.pdf').read_bytes() == pdf.read_bytes()


def test_latex_error_names_the_page_and_leaves_no_pdf(tiny_book):
    need_tex()
    book, write_page = tiny_book
    # MathJax 会把不认识的命令显示成红字，网站照样构建；LaTeX 则停下来。
    write_page('公式里有一个写错的命令：$\\mathbff{x}$。\n', code_cell('print(1)'))
    (book / '_toc.yml').write_text(NUMBERED_TOC)
    code, output = make_pdf(book)
    assert code != 0
    assert 'chapters/page：LaTeX 错误：Undefined control sequence' in output, output[-3000:]
    assert not list((book / '_build' / 'pdf').glob('*.pdf*'))


# ---- 整本书的 PDF（make test-pdf）----

@pytest.fixture(scope='module')
def book_text():
    if not PDF.exists():
        pytest.fail(f'没有 {PDF}：先运行 make pdf')
    return text_of(PDF)


def html_titles():
    """网站上每一页的章节号和标题，例如 ('2.1', '数据操作')；不编号的页面章节号为空。"""
    titles = []
    for name in all_toc_files():
        if name.startswith('chapters/'):
            html = (HTML / f'{name}.html').read_text(encoding='utf-8')
            match = re.search(r'<h1>(?:<span class="section-number">([\d.]+)\. </span>)?(.*?)<a class="headerlink"', html)
            titles.append((match.group(1) or '', re.sub(r'<[^>]+>', '', match.group(2)).strip()))
    return titles


@pytest.mark.pdf
def test_every_page_is_in_the_pdf_with_its_number(book_text):
    flat = re.sub(r'\s+', ' ', book_text)
    titles = html_titles()
    assert len(titles) == len([n for n in all_toc_files() if n.startswith('chapters/')])
    for number, title in titles:
        if not number:
            pattern = re.escape(title)
        elif '.' in number:
            pattern = re.escape(number) + r'\s*' + re.escape(title)
        else:
            pattern = rf'第 {number} 章\s*' + re.escape(title)
        assert re.search(pattern, flat), f'PDF 里没有“{number} {title}”'


@pytest.mark.pdf
def test_every_numbered_figure_of_the_site_is_in_the_pdf(book_text):
    site = set()
    for page in HTML.glob('chapters/**/*.html'):
        site |= set(re.findall(r'<span class="caption-number">图 (\d+\.\d+) </span>', page.read_text(encoding='utf-8')))
    pdf = set(re.findall(r'^图 (\d+\.\d+)', book_text, re.M))
    assert len(site) > 40 and site == pdf, (sorted(site - pdf), sorted(pdf - site))


@pytest.mark.pdf
def test_pdf_fonts_and_references(book_text):
    assert '??' not in book_text
    fonts = fonts_of(PDF)
    assert all(embedded == 'yes' for _, embedded in fonts), [f for f in fonts if f[1] != 'yes']
    assert any('CJK' in name for name, _ in fonts)


@pytest.mark.pdf
def test_answers_shown_and_checks_hidden(book_text):
    flat = re.sub(r'\s+', '', book_text)
    titles, hidden = [], []
    for name in all_toc_files():
        source = (ROOT / f'{name}.md').read_text(encoding='utf-8')
        titles += re.findall(r'^:::\{dropdown\} (.+)$', source, re.M)
        for cell in re.findall(r'```\{code-cell\}[^\n]*\n:tags: \[[^\]]*remove-cell[^\]]*\]\n\n(.*?)```', source, re.S):
            hidden += [line.strip() for line in cell.splitlines() if line.strip().startswith('assert ')]
    assert len(titles) > 50 and hidden
    missing = [t for t in titles if re.sub(r'\s+', '', re.sub(r'\{[^}]+\}`[^`]*`|\$[^$]*\$', '', t)) not in flat]
    assert not missing, missing
    shown = [line for line in hidden if re.sub(r'\s+', '', line) in flat]
    assert not shown, shown


@pytest.mark.pdf
def test_the_site_offers_the_pdf():
    intro = (HTML / 'intro.html').read_text(encoding='utf-8')
    assert 'href="d2l-course.pdf"' in intro
    for name in ('chapters/preliminaries/ndarray', 'chapters/multilayer-perceptrons/dropout'):
        assert 'download-book-pdf-button' in (HTML / f'{name}.html').read_text(encoding='utf-8')
    assert (HTML / 'd2l-course.pdf').read_bytes() == PDF.read_bytes()


def test_undefined_references_and_missing_characters_count_as_errors():
    import importlib.util
    spec = importlib.util.spec_from_file_location('pdf_build', ROOT / '_ext' / 'pdf.py')
    pdf_build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pdf_build)
    tex = ['\\begin{document}', r'\label{\detokenize{chapters/a:x}}\label{\detokenize{chapters/a::doc}}', 'text',
           r'\label{\detokenize{chapters/b::doc}}', r'see \ref{missing}']
    log = ("LaTeX Warning: Reference `missing' on page 3 undefined on input line 5.\n"
           "Missing character: There is no ᵀ (U+1D40) in font [FreeMono.otf]/OT:script=latn;language=dflt;!\n")
    found = pdf_build.problems(log, tex)
    assert len(found) == 2
    assert found[0].startswith('chapters/b：交叉引用 missing 没有解析')
    assert 'ᵀ' in found[1] and 'FreeMono' in found[1]
    assert pdf_build.problems('Output written on x.pdf (3 pages).\n', tex) == []
