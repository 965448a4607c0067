"""严格构建：单元格出错或写 stderr 时 make book 失败，并指出是哪一页。"""
import subprocess

from conftest import ROOT, code_cell


def make_book(book):
    result = subprocess.run(['make', '--no-print-directory', '-C', str(ROOT), 'book', f'BOOK={book}'],
                            capture_output=True, text=True, timeout=600)
    return result.returncode, result.stdout + result.stderr


def test_clean_page_builds(tiny_book):
    book, write_page = tiny_book
    write_page(code_cell('print(1 + 1)'))
    code, output = make_book(book)
    assert code == 0, output
    assert (book / '_build' / 'html' / 'chapters' / 'page.html').exists()


def test_failing_cell_fails_the_build(tiny_book):
    book, write_page = tiny_book
    write_page(code_cell('x = 1'), code_cell("raise ValueError('planted failure')"))
    code, output = make_book(book)
    assert code != 0
    assert 'chapters/page' in output and 'reports' in output


def test_stderr_output_fails_the_build(tiny_book):
    book, write_page = tiny_book
    write_page(code_cell("import warnings\nwarnings.warn('planted warning')"))
    code, output = make_book(book)
    assert code != 0
    assert 'chapters/page' in output and 'stderr' in output

