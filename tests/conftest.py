import pathlib
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

FRONT_MATTER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---
"""


def code_cell(source, tags=()):
    meta = f":tags: [{', '.join(tags)}]\n\n" if tags else ''
    return f"```{{code-cell}} ipython3\n{meta}{source}\n```\n"


@pytest.fixture
def tiny_book(tmp_path):
    """一本很小的书，配置与本书相同；返回 (书的目录, 写页面的函数)。write_page(..., name=) 可写多页。"""
    book = tmp_path / 'book'
    (book / 'chapters').mkdir(parents=True)
    shutil.copy(ROOT / '_config.yml', book)
    shutil.copytree(ROOT / '_ext', book / '_ext')
    (book / 'intro.md').write_text('# 测试\n')
    pages = []

    def write_page(*cells, name='page'):
        text = FRONT_MATTER + f'\n# 页面 {name}\n\n' + '\n'.join(cells)
        (book / 'chapters' / f'{name}.md').write_text(text, encoding='utf-8')
        if name not in pages:
            pages.append(name)
        toc = ''.join(f'  - file: chapters/{page}\n' for page in pages)
        (book / '_toc.yml').write_text('format: jb-book\nroot: intro\nchapters:\n' + toc)
    return book, write_page


def run_in_kernel(*cells, timeout=300):
    """在一个全新的内核里依次执行这些代码单元，返回执行后的 notebook。"""
    import nbclient
    import nbformat
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell) for cell in cells])
    nbclient.NotebookClient(notebook, timeout=timeout, kernel_name='python3').execute()
    return notebook
