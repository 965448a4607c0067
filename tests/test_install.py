"""辅助模块作为发行包：从仓库构建的 wheel 装进仓库之外的全新 venv，在那里导入、读数据；
数据文件夹来自 D2L_DATA_DIR 或本用户的缓存文件夹，从不在 site-packages 里。

torch 有几个 GB，不在新 venv 里重装：新 venv 通过一个 .pth 文件看到仓库 .venv 里的第三方包，
但看不到那里以可编辑方式安装的 d2l_helpers（见 repo_packages_view）。整个过程不联网。
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

import d2l_helpers as d2l
from conftest import ROOT

# 复制源码树时不要的：构建结果、虚拟环境、数据，以及 setuptools 在源码树里写下的 build/ 和 egg-info。
SKIP = shutil.ignore_patterns('.git', '.venv', '_build', 'data', 'build', '*.egg-info', '__pycache__',
                              '.ipynb_checkpoints', 'node_modules', '.jupyter')
# 仓库 .venv 里属于可编辑安装的东西：新 venv 看到它们，导入的就是仓库里的 d2l_helpers.py 了。
EDITABLE = ('d2l_helpers', '__editable__', 'd2l_zh_course')
KERNEL_NAME = 'd2l-wheel'


def run(command, what, **kwargs):
    """运行一条命令；失败时把命令和它的输出写进失败信息。"""
    kwargs.setdefault('timeout', 180)
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        pytest.fail(f'{what}失败（退出码 {result.returncode}）：{" ".join(map(str, command))}\n'
                    f'{result.stdout}{result.stderr}', pytrace=False)
    return result.stdout


def repo_packages_view(target):
    """在 target 里给仓库 .venv 的 site-packages 的每一项建一个符号链接，可编辑安装的那几项除外。"""
    target.mkdir()
    site = Path(sysconfig.get_path('purelib'))
    for entry in site.iterdir():
        if entry.name.startswith(EDITABLE) or entry.suffix == '.pth' or entry.name == '__pycache__':
            continue
        (target / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    return target


@pytest.fixture(scope='module')
def wheel_venv(tmp_path_factory):
    """构建 wheel，装进仓库之外的全新 venv。返回的对象里有：

    python     新 venv 的解释器
    data_dir   D2L_DATA_DIR 指向的文件夹，里面有 Fashion-MNIST 的四个原始文件（从仓库的 data/ 复制）
    env        运行新 venv 的环境变量：HOME 是临时目录，设了 D2L_DATA_DIR，没有 PYTHONPATH
    workdir    一个空的临时目录，在仓库之外，用作当前目录
    site       新 venv 的 site-packages
    wheel      构建出的 wheel
    kernel_name、jupyter_path  新 venv 的 Jupyter 内核（环境与 env 相同）：
               设 JUPYTER_PATH=jupyter_path 后，nbclient 用 kernel_name 就在新 venv 里执行笔记本
    """
    base = tmp_path_factory.mktemp('wheel-install')
    assert ROOT not in base.parents, f'临时目录 {base} 应当在仓库之外'

    # 1. 在源码树的副本里构建，不在仓库里留下 build/ 和 egg-info；不隔离构建环境，不联网
    source = base / 'source'
    shutil.copytree(ROOT, source, ignore=SKIP)
    dist = base / 'dist'
    run([sys.executable, '-m', 'pip', 'wheel', source, '--no-deps', '--no-build-isolation',
         '--disable-pip-version-check', '-q', '-w', dist], '构建 wheel ')
    wheels = list(dist.glob('*.whl'))
    assert len(wheels) == 1, f'应当构建出一个 wheel，得到 {wheels}'

    # 2. 全新的 venv：先装 wheel，再加上看得到第三方包的 .pth（反过来的话，pip 会以为已经装好了）
    venv = base / 'venv'
    run([sys.executable, '-m', 'venv', '--without-pip', venv], '建立 venv ')
    python = venv / ('Scripts/python.exe' if os.name == 'nt' else 'bin/python')
    run([sys.executable, '-m', 'pip', '--python', python, 'install', '--no-deps', '--no-index',
         '--disable-pip-version-check', '-q', wheels[0]], '把 wheel 装进新 venv ')
    site = Path(run([python, '-c', 'import sysconfig; print(sysconfig.get_path("purelib"))'],
                    '查询新 venv 的 site-packages ').strip())
    (site / 'repo-packages.pth').write_text(f'{repo_packages_view(base / "repo-packages")}\n')

    # 3. 数据文件夹：Fashion-MNIST 的原始文件复制过来，D2L_DATA_DIR 指向它
    data_dir = base / 'data'
    raw = data_dir / 'FashionMNIST' / 'raw'
    raw.mkdir(parents=True)
    good = d2l.fetch_fashion_mnist()  # 仓库 data/ 里经过校验的文件
    for name in d2l.FASHION_MNIST_FILES:
        shutil.copy(good / name, raw / name)

    # 4. 环境：HOME 在临时目录里，什么真实的东西都不碰；matplotlib 的字体缓存先复制一份，省得重建
    home = base / 'home'
    home.mkdir()
    mplconfig = base / 'matplotlib'
    mplconfig.mkdir()
    import matplotlib
    for cache in Path(matplotlib.get_cachedir()).glob('fontlist-*.json'):
        shutil.copy(cache, mplconfig)
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP', 'VIRTUAL_ENV', 'XDG_CACHE_HOME',
                        'D2L_DATA_DIR', 'JUPYTER_PATH', 'JUPYTER_CONFIG_DIR', 'IPYTHONDIR')}
    env.update(HOME=str(home), USERPROFILE=str(home), MPLCONFIGDIR=str(mplconfig), D2L_DATA_DIR=str(data_dir))
    workdir = base / 'work'
    workdir.mkdir()

    # 5. 新 venv 的内核：kernel.json 里的 env 让内核进程用同样的 HOME 和 D2L_DATA_DIR
    jupyter_path = base / 'jupyter'
    spec = jupyter_path / 'kernels' / KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / 'kernel.json').write_text(json.dumps({
        'argv': [str(python), '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
        'display_name': 'd2l-zh-course（wheel）', 'language': 'python',
        'env': {k: env[k] for k in ('HOME', 'USERPROFILE', 'MPLCONFIGDIR', 'D2L_DATA_DIR')},
    }, ensure_ascii=False), encoding='utf-8')
    return SimpleNamespace(python=python, data_dir=data_dir, env=env, workdir=workdir, site=site,
                           wheel=wheels[0], kernel_name=KERNEL_NAME, jupyter_path=jupyter_path)


# 在新 venv 里导入 d2l_helpers 后收集的情况；probe 在它后面接上要运行的代码，最后打印 info。
WHERE = """
import json, os, sys, importlib.metadata
import d2l_helpers as d2l
dist = importlib.metadata.distribution('d2l-zh-course')
info = {'module': d2l.__file__, 'dist_at': str(dist.locate_file('')),
        'data_dir': str(d2l.DATA_DIR), 'data_dir_exists': d2l.DATA_DIR.exists(),
        'repo_on_path': [p for p in sys.path if p.startswith(REPO)]}
"""


def probe(venv, code='', **env):
    """在新 venv 里、仓库之外的空目录中导入 d2l_helpers 并运行 code，返回 info 字典。

    env 里的变量加进（值为 None 时移出）新 venv 的环境。
    """
    environment = dict(venv.env)
    for name, value in env.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = str(value)
    script = f'REPO = {str(ROOT)!r}' + WHERE + code + '\nprint(json.dumps(info))\n'
    output = run([venv.python, '-c', script], '在新 venv 里运行 Python ', cwd=venv.workdir, env=environment)
    return json.loads(output.strip().splitlines()[-1])


def test_wheel_holds_only_the_module_and_its_metadata(wheel_venv):
    wheel = zipfile.ZipFile(wheel_venv.wheel)
    names = wheel.namelist()
    assert [n for n in names if '.dist-info/' not in n] == ['d2l_helpers.py'], names
    assert any(n.endswith('.dist-info/licenses/LICENSE') for n in names), names
    metadata = wheel.read(next(n for n in names if n.endswith('.dist-info/METADATA'))).decode()
    for line in ('Name: d2l-zh-course', 'License-Expression: MIT', 'Requires-Python: >=',
                 'Requires-Dist: torch>=', 'Requires-Dist: torchvision>=', 'Requires-Dist: numpy>=',
                 'Requires-Dist: matplotlib>='):
        assert line in metadata, f'METADATA 里没有 {line!r}：\n{metadata}'


def test_installed_module_reads_data_from_the_variables_folder(wheel_venv):
    info = probe(wheel_venv, """
train_iter, test_iter = d2l.load_data_fashion_mnist(256)
X, y = next(iter(train_iter))
info.update(X=list(X.shape), y=list(y.shape), batches=len(train_iter))
""")
    assert Path(info['module']).parent == wheel_venv.site, (
        f'导入的 d2l_helpers 是 {info["module"]}，应当是新 venv 里装的 {wheel_venv.site}/d2l_helpers.py'
        '（仓库的可编辑安装漏进了新 venv？）')
    assert Path(info['dist_at']) == wheel_venv.site and not info['repo_on_path'], info
    assert info['data_dir'] == str(wheel_venv.data_dir), f'DATA_DIR 应当是 D2L_DATA_DIR 指向的文件夹：{info}'
    assert (info['X'], info['y'], info['batches']) == ([256, 1, 28, 28], [256], 235), info


def test_without_the_variable_data_goes_to_the_user_cache(wheel_venv, tmp_path):
    # 导入时没有 D2L_DATA_DIR 和 XDG_CACHE_HOME：~/.cache/d2l-zh-course；之后再看设了 XDG_CACHE_HOME 时的选择
    info = probe(wheel_venv, f"""
os.environ['XDG_CACHE_HOME'] = {str(tmp_path / 'xdg')!r}
info['with_xdg'] = str(d2l._choose_data_dir())
""", D2L_DATA_DIR=None)
    home = Path(wheel_venv.env['HOME'])
    assert info['data_dir'] == str(home / '.cache' / 'd2l-zh-course'), info
    assert info['with_xdg'] == str(tmp_path / 'xdg' / 'd2l-zh-course'), info
    assert not info['data_dir_exists'], '导入模块不应建立数据文件夹'
    for where in (wheel_venv.site, wheel_venv.python.parent.parent, ROOT):
        assert not Path(info['data_dir']).is_relative_to(where), f'数据文件夹 {info["data_dir"]} 在 {where} 里'


def test_a_kernel_runs_in_the_wheel_venv(wheel_venv, monkeypatch):
    """nbclient 用 wheel_venv.kernel_name 在新 venv 里执行笔记本（以后运行下载的页面也这样做）。"""
    import nbclient
    import nbformat
    monkeypatch.setenv('JUPYTER_PATH', str(wheel_venv.jupyter_path))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        'import sys, d2l_helpers as d2l\nprint(sys.executable)\nprint(d2l.__file__)\nprint(d2l.DATA_DIR)')])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name=wheel_venv.kernel_name,
                            resources={'metadata': {'path': str(wheel_venv.workdir)}}).execute()
    printed = notebook.cells[0].outputs[0]['text'].split()
    expected = [str(wheel_venv.python), str(wheel_venv.site / 'd2l_helpers.py'), str(wheel_venv.data_dir)]
    assert printed == expected, f'内核应当运行新 venv 的 Python、导入装好的模块：{printed}'


# 网站下载菜单里的两页：一页第 2 章的，一页训练模型的（读 Fashion-MNIST）。
DOWNLOADS = ['chapters/preliminaries/autograd', 'chapters/linear-networks/softmax-regression-concise']


@pytest.mark.site
@pytest.mark.parametrize('name', DOWNLOADS)
def test_a_downloaded_notebook_runs_top_to_bottom_with_the_wheel(wheel_venv, monkeypatch, tmp_path, name):
    """读者的做法：从网站下载 .ipynb，放进一个空文件夹，在只装了 wheel 的环境里从头运行到尾。"""
    import nbclient
    import nbformat
    downloaded = ROOT / '_build' / 'html' / '_sources' / f'{name}.ipynb'
    assert downloaded.exists(), f'没有 {downloaded}：先运行 make book'
    folder = tmp_path / 'downloads'
    folder.mkdir()
    notebook_path = shutil.copy(downloaded, folder)
    notebook = nbformat.read(notebook_path, as_version=4)
    monkeypatch.setenv('JUPYTER_PATH', str(wheel_venv.jupyter_path))
    monkeypatch.setenv('D2L_LIVE_PLOTS', '0')
    nbclient.NotebookClient(notebook, timeout=600, kernel_name=wheel_venv.kernel_name,
                            resources={'metadata': {'path': str(folder)}}).execute()
    errors = [o for c in notebook.cells for o in c.get('outputs', []) if o.get('output_type') == 'error']
    assert not errors
    stderr = [o['text'] for c in notebook.cells for o in c.get('outputs', []) if o.get('name') == 'stderr']
    assert not stderr, stderr
    # 数据来自 D2L_DATA_DIR 指向的文件夹，什么也没写进下载的文件夹和 site-packages 旁边
    assert sorted(p.name for p in folder.iterdir()) == [Path(notebook_path).name]
