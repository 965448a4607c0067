"""下载的 Notebook：仓库和网站的地址从哪里来，开头的安装单元怎么写。"""
import sys
from types import SimpleNamespace

from conftest import ROOT

sys.path.insert(0, str(ROOT / '_ext'))
import notebook_download  # noqa: E402


def fake_app(options, baseurl=''):
    return SimpleNamespace(config=SimpleNamespace(html_theme_options=options, html_baseurl=baseurl))


def test_site_and_install_follow_the_repository_button():
    ours = fake_app({'repository_url': 'https://github.com/Some-Org/d2l-course', 'use_repository_button': True})
    assert notebook_download.site_url(ours) == 'https://some-org.github.io/d2l-course/'
    cells = notebook_download.install_cells(ours)
    assert '%pip install -q "d2l-zh-course[notebooks] @ git+https://github.com/Some-Org/d2l-course"' in cells[1].source
    assert 'https://some-org.github.io/d2l-course/' in cells[0].source
    # 缩进在 try 里的 %pip 也是 IPython 能执行的写法
    from IPython.core.inputtransformer2 import TransformerManager
    compile(TransformerManager().transform_cell(cells[1].source), 'cell', 'exec')


def test_without_a_repository_the_cell_explains_instead_of_installing():
    # Jupyter Book 的默认配置带着它自己的仓库地址：那不是本书的仓库
    default = fake_app({'repository_url': 'https://github.com/executablebooks/jupyter-book'})
    assert notebook_download.site_url(default) is None
    code = notebook_download.install_cells(default)[1].source
    assert '%pip' not in code and 'pip install .' in code and 'ModuleNotFoundError' in code


def test_html_baseurl_wins():
    app = fake_app({'repository_url': 'https://github.com/a/b', 'use_repository_button': True}, 'https://course.example/')
    assert notebook_download.site_url(app) == 'https://course.example/'
