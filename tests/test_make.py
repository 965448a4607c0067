"""make 的准备步骤：读者可能弄坏的东西（.venv、数据文件）得到一句说明，而不是 Python 回溯。"""
import shutil
import subprocess
import sys

from conftest import ROOT
from test_data import NAMES, SMALL


def run(command, cwd):
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout + result.stderr


def checkout_with_venv(tmp_path, helpers_dir):
    """一个只有 Makefile 和 d2l_helpers.py 的检出，.venv 里的 d2l_helpers 指向 helpers_dir。"""
    checkout = tmp_path / 'checkout'
    checkout.mkdir()
    shutil.copy(ROOT / 'Makefile', checkout)
    shutil.copy(ROOT / 'd2l_helpers.py', checkout)
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(checkout / '.venv')], check=True)
    site = next((checkout / '.venv' / 'lib').glob('python3*/site-packages'))
    (site / 'course.pth').write_text(str(helpers_dir) + '\n')  # 可编辑安装就是这样一行路径
    script = checkout / '.venv' / 'bin' / 'jupyter-book'
    script.write_text(f'#!{checkout}/.venv/bin/python\n')
    return checkout


def test_a_venv_of_this_checkout_is_kept(tmp_path):
    checkout = checkout_with_venv(tmp_path, helpers_dir=tmp_path / 'checkout')
    code, output = run(['make', '--no-print-directory', 'venv'], checkout)
    assert code == 0 and output == '', output
    assert (checkout / '.venv').exists()


def test_a_venv_of_another_checkout_is_reinstalled(tmp_path):
    other = tmp_path / 'moved-away'
    other.mkdir()
    shutil.copy(ROOT / 'd2l_helpers.py', other)
    checkout = checkout_with_venv(tmp_path, helpers_dir=other)
    code, output = run(['make', '--no-print-directory', 'venv'], checkout)
    assert code == 0, output
    assert '另一个目录' in output and str(other) in output and len(output.strip().splitlines()) == 1, output
    assert not (checkout / '.venv').exists(), '坏掉的 .venv 应当被删除，好让下一步重新安装'


def test_a_venv_whose_scripts_point_elsewhere_is_reinstalled(tmp_path):
    checkout = checkout_with_venv(tmp_path, helpers_dir=tmp_path / 'checkout')
    (checkout / '.venv' / 'bin' / 'jupyter-book').write_text('#!/somewhere/else/.venv/bin/python\n')
    code, output = run(['make', '--no-print-directory', 'venv'], checkout)
    assert code == 0 and '已损坏' in output, output
    assert not (checkout / '.venv').exists()


def test_make_data_names_a_corrupted_file_without_a_traceback(tmp_path):
    # python -m d2l_helpers 就是 make data 运行的命令；数据目录在模块旁边的 data/ 里
    shutil.copy(ROOT / 'd2l_helpers.py', tmp_path)
    raw = tmp_path / 'data' / 'FashionMNIST' / 'raw'
    raw.mkdir(parents=True)
    for name in NAMES:
        shutil.copy(ROOT / 'data' / 'FashionMNIST' / 'raw' / name, raw)
    with open(raw / SMALL, 'ab') as f:
        f.write(b'\0')
    code, output = run([str(ROOT / '.venv' / 'bin' / 'python'), '-m', 'd2l_helpers'], tmp_path)
    assert code == 1, output
    assert 'Traceback' not in output, output
    assert str(raw / SMALL) in output and 'make data' in output, output
