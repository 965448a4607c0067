"""辅助模块不假定运行在 Linux 上：在本机假装成 Windows 和 macOS，走一遍数据文件夹、Fashion-MNIST 的来源、
DataLoader 工作进程数和中文字体这几处与系统有关的代码。"""
import gzip
import os
import shutil
import subprocess
import sys

import matplotlib
import pytest
from matplotlib import font_manager
from matplotlib import pyplot as plt

import d2l_helpers as d2l
from conftest import ROOT
from test_data import NAMES, SMALL, copy_good, raw_dir


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """模块像装进了 site-packages 一样：旁边没有 _toc.yml；没有 D2L_DATA_DIR；HOME 是临时目录。"""
    site = tmp_path / 'site-packages'
    site.mkdir()
    home = tmp_path / 'home'
    home.mkdir()
    monkeypatch.setattr(d2l, 'ROOT', site)
    for name in ('D2L_DATA_DIR', 'XDG_CACHE_HOME', 'LOCALAPPDATA'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('HOME', str(home))
    monkeypatch.setenv('USERPROFILE', str(home))  # 真在 Windows 上时 Path.home() 看的是它
    return home


# ---------------------------------------------------------------- 数据文件夹

def test_checkout_uses_its_data_folder(monkeypatch):
    monkeypatch.delenv('D2L_DATA_DIR', raising=False)
    assert d2l._choose_data_dir() == ROOT / 'data'


def test_an_empty_variable_counts_as_unset(monkeypatch):
    monkeypatch.setenv('D2L_DATA_DIR', '')
    assert d2l._choose_data_dir() == ROOT / 'data'


def test_environment_variable_comes_first(tmp_path, monkeypatch):
    monkeypatch.setenv('D2L_DATA_DIR', str(tmp_path / 'mine'))
    assert d2l._choose_data_dir() == tmp_path / 'mine'
    assert not (tmp_path / 'mine').exists(), '只算出路径，用到时才建立文件夹'
    monkeypatch.setenv('HOME', str(tmp_path))
    monkeypatch.setenv('D2L_DATA_DIR', '~/d2l-data')
    assert d2l._choose_data_dir() == tmp_path / 'd2l-data'


def test_variable_pointing_at_a_file_is_named_with_the_fix(tmp_path, monkeypatch):
    afile = tmp_path / 'data.zip'
    afile.write_bytes(b'')
    monkeypatch.setenv('D2L_DATA_DIR', str(afile))
    with pytest.raises(d2l.DataError) as err:
        d2l._choose_data_dir()
    message = str(err.value)
    assert 'D2L_DATA_DIR' in message and str(afile) in message and '不是文件夹' in message
    assert '修复方法' in message


def test_relative_variable_is_refused(monkeypatch):
    monkeypatch.setenv('D2L_DATA_DIR', 'data')
    with pytest.raises(d2l.DataError) as err:
        d2l._choose_data_dir()
    assert "'data'" in str(err.value) and '完整路径' in str(err.value)


def test_make_data_with_a_bad_variable_says_why_without_a_traceback(tmp_path):
    afile = tmp_path / 'not-a-folder'
    afile.write_text('')
    env = dict(os.environ, D2L_DATA_DIR=str(afile))
    result = subprocess.run([sys.executable, '-m', 'd2l_helpers'], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert 'Traceback' not in output and str(afile) in output and 'D2L_DATA_DIR' in output, output


@pytest.mark.parametrize('platform, env, expected', [
    ('linux', {}, 'home/.cache/d2l-zh-course'),
    ('linux', {'XDG_CACHE_HOME': '{tmp}/xdg'}, 'xdg/d2l-zh-course'),
    ('linux', {'XDG_CACHE_HOME': 'relative'}, 'home/.cache/d2l-zh-course'),  # XDG 规范：相对路径不算
    ('freebsd14', {}, 'home/.cache/d2l-zh-course'),
    ('darwin', {}, 'home/Library/Caches/d2l-zh-course'),
    ('darwin', {'XDG_CACHE_HOME': '{tmp}/xdg'}, 'home/Library/Caches/d2l-zh-course'),
    ('win32', {'LOCALAPPDATA': '{tmp}/local'}, 'local/d2l-zh-course/Cache'),
    ('win32', {}, 'home/AppData/Local/d2l-zh-course/Cache'),
])
def test_installed_module_uses_the_user_cache(installed, tmp_path, monkeypatch, platform, env, expected):
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    with monkeypatch.context() as m:
        m.setattr(sys, 'platform', platform)
        chosen = d2l._choose_data_dir()
    assert chosen == tmp_path / expected
    assert not chosen.exists(), '只算出路径，用到时才建立文件夹'


def test_variable_wins_over_the_user_cache(installed, tmp_path, monkeypatch):
    monkeypatch.setenv('D2L_DATA_DIR', str(tmp_path / 'shared'))
    assert d2l._choose_data_dir() == tmp_path / 'shared'


# ---------------------------------------------------------------- Fashion-MNIST 的来源

@pytest.fixture(scope='module')
def good_raw():
    return d2l.fetch_fashion_mnist()


def offline(name, workdir):
    """代替从官方镜像下载：测试不碰网络（也不在假装的系统下导入 urllib）。"""
    raise OSError('网络不通')


@pytest.mark.parametrize('platform', ['darwin', 'win32'])
def test_off_linux_missing_data_names_the_ways_that_apply(good_raw, tmp_path, monkeypatch, platform):
    """不是 Linux 时不找 Debian 包的系统副本，报错里也不叫读者运行 apt-get。"""
    system = tmp_path / 'system'  # 即使这个位置真有一份完好的副本，也不用它
    system.mkdir()
    with open(good_raw / SMALL, 'rb') as src, gzip.open(system / (SMALL + '.gz'), 'wb') as dst:
        shutil.copyfileobj(src, dst)
    monkeypatch.setattr(d2l, 'SYSTEM_FASHION_MNIST', system)
    monkeypatch.setattr(d2l, '_download_gz', offline)
    copy_good(good_raw, tmp_path / 'book', names=[n for n in NAMES if n != SMALL])
    with monkeypatch.context() as m, pytest.raises(d2l.DataError) as err:
        m.setattr(sys, 'platform', platform)
        d2l.fetch_fashion_mnist(tmp_path / 'book')
    message = str(err.value)
    assert SMALL in message and str(raw_dir(tmp_path / 'book')) in message and '网络不通' in message
    assert 'python -m d2l_helpers' in message and 'D2L_DATA_DIR' in message
    assert 'apt-get' not in message and str(system) not in message, message
    assert not (raw_dir(tmp_path / 'book') / SMALL).exists()


def test_on_linux_the_debian_package_is_offered(good_raw, tmp_path, monkeypatch):
    monkeypatch.setattr(d2l, 'SYSTEM_FASHION_MNIST', tmp_path / 'no-system-copy')
    monkeypatch.setattr(d2l, '_download_gz', offline)
    copy_good(good_raw, tmp_path / 'book', names=NAMES[:-1])
    with monkeypatch.context() as m, pytest.raises(d2l.DataError) as err:
        m.setattr(sys, 'platform', 'linux')
        d2l.fetch_fashion_mnist(tmp_path / 'book')
    message = str(err.value)
    assert 'apt-get install dataset-fashion-mnist' in message and str(tmp_path / 'no-system-copy') in message


# ---------------------------------------------------------------- DataLoader 的工作进程数

def test_windows_uses_no_worker_processes(monkeypatch):
    with monkeypatch.context() as m:  # os.name 一改，pathlib 就造不出路径：只在这一次调用期间改
        m.setattr(os, 'name', 'nt')
        workers = d2l.get_dataloader_workers()
    assert workers == 0


@pytest.mark.parametrize('cpus, expected', [(8, 4), (2, 2), (1, 1), (None, 1)])
def test_without_sched_getaffinity_the_cpu_count_is_used(monkeypatch, cpus, expected):
    """macOS 和 Windows 的 os 模块没有 sched_getaffinity；os.cpu_count() 也可能给出 None。"""
    monkeypatch.delattr(os, 'sched_getaffinity', raising=False)
    monkeypatch.setattr(os, 'cpu_count', lambda: cpus)
    assert d2l.get_dataloader_workers() == expected


def test_sched_getaffinity_counts_only_the_allowed_cores(monkeypatch):
    monkeypatch.setattr(os, 'sched_getaffinity', lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, 'cpu_count', lambda: 64)
    assert d2l.get_dataloader_workers() == 2


# ---------------------------------------------------------------- 中文字体

# 各系统自带、matplotlib 能找到的字体（macOS 的 PingFang.ttc 里 matplotlib 只读到 PingFang HK）。
SYSTEM_FONTS = {
    'linux': ['DejaVu Sans', 'Noto Sans CJK JP', 'Noto Serif CJK JP'],
    'linux-wqy': ['DejaVu Sans', 'WenQuanYi Micro Hei'],
    'windows': ['DejaVu Sans', 'Arial', 'Microsoft YaHei', 'SimHei', 'DengXian', 'SimSun'],
    'macos': ['DejaVu Sans', 'Helvetica', 'PingFang HK', 'Hiragino Sans GB', 'Heiti TC', 'Songti SC',
              'Arial Unicode MS'],
}
EXPECTED_CJK = {
    'linux': ['Noto Sans CJK JP'],
    'linux-wqy': ['WenQuanYi Micro Hei'],
    'windows': ['Microsoft YaHei', 'SimHei', 'DengXian'],
    'macos': ['Hiragino Sans GB', 'Heiti TC', 'Songti SC', 'Arial Unicode MS'],
}


@pytest.mark.parametrize('system', list(SYSTEM_FONTS))
def test_each_systems_chinese_fonts_are_used(monkeypatch, system):
    fonts = [font_manager.FontEntry(fname=f'{name}.ttf', name=name) for name in SYSTEM_FONTS[system]]
    monkeypatch.setattr(font_manager.fontManager, 'ttflist', fonts)
    with matplotlib.rc_context():
        d2l._use_chinese_fonts()
        family = list(plt.rcParams['font.family'])
    assert family == ['DejaVu Sans'] + EXPECTED_CJK[system]


def test_without_chinese_fonts_only_installed_fonts_are_listed(monkeypatch):
    """没有中文字体时只列 DejaVu Sans：列出没装的字体会让 matplotlib 每画一次都警告找不到字体。"""
    monkeypatch.setattr(font_manager.fontManager, 'ttflist', [font_manager.FontEntry(name='DejaVu Sans')])
    with matplotlib.rc_context():
        d2l._use_chinese_fonts()
        assert list(plt.rcParams['font.family']) == ['DejaVu Sans']
