"""整本书的构建时间：每页从空缓存执行的时间（由慢到快）、整本书、以及没有改动时的重新构建。

在仓库的临时副本里构建（不动 _build/），并在同一次运行中、构建前后各测一次 d2l 0.17 迭代周期，
把整本书的时间表示成它的倍数，这样换一台机器结果仍可比较。
页面由 _ext/course.py 并行执行（默认每个 CPU 核一个内核），所以每页的时间是并行时测得的。
最后在干净克隆里计时 make test（约十分钟；--no-make-test 跳过）。
用法：.venv/bin/python benchmarks/book.py [--no-make-test]   （或 make bench）
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import epoch

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).parent / 'jupyter-book'
# 页面导入的 d2l_helpers 是仓库里那份（可编辑安装），数据也在仓库的 data/ 中。
# _ext 里带着随仓库提交的每页用时（page-seconds.json），所以这次构建与全新检出的第一次构建一样排顺序。
COPY = ['_config.yml', '_toc.yml', 'intro.md', 'chapters', '_ext']
ESTIMATES = ROOT / '_ext' / 'page-seconds.json'
IDLE = re.compile(r'执行 (\d+) 个页面用了 ([\d.]+) s，(\d+) 个内核共忙 ([\d.]+) s，空闲 ([\d.]+)%')
WORKERS = epoch.cpu_count()  # 与 _ext/course.py 的默认值相同：每个 CPU 核一个内核


def build(book):
    start = time.perf_counter()
    result = subprocess.run([str(JUPYTER_BOOK), 'build', str(book), '-W', '--keep-going'],
                            capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit('构建失败：\n' + result.stdout[-3000:] + result.stderr[-3000:])
    pages = {m.group(1): float(m.group(2)) for m in
             re.finditer(r'(chapters/\S+?)\.md: Executed notebook in ([\d.]+) seconds', result.stdout)}
    return seconds, pages, IDLE.search(result.stdout)


def timed_make_test(tmp):
    """在仓库提交内容的干净克隆里计时 make test（共用本仓库的 .venv，不计安装依赖的时间）。"""
    clone = Path(tmp) / 'clone'
    subprocess.run(['git', 'clone', '-q', str(ROOT), str(clone)], check=True)
    (clone / '.venv').symlink_to(ROOT / '.venv')
    # 刚检出的 requirements.txt 比共用的 .venv/.installed 新，make（包括测试里嵌套调用的 make）
    # 会往共用的 .venv 里重装，把可编辑安装的 d2l_helpers 指向这个用完即删的克隆。让它们显得更旧。
    for name in ('requirements.txt', 'pyproject.toml'):
        os.utime(clone / name, (0, 0))
    start = time.perf_counter()
    result = subprocess.run(['make', '-C', str(clone), 'test'], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit('make test 失败：\n' + result.stdout[-3000:] + result.stderr[-3000:])
    return seconds


def main():
    print('机器：', epoch.machine())
    # 参照的 d2l 0.17 迭代周期在构建前后各测 3 次、各取最短，用两者的平均：机器（尤其是共享的虚拟机）
    # 的速度会变，只在一头测，比值就可能偏向任何一边。前后相差太多时提醒这次的结果不可靠。
    before = epoch.measure_epochs(repeats=3)['d2l 0.17'][0]
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / 'book'
        book.mkdir()
        for name in COPY:
            source = ROOT / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, book / name)
        cold, pages, idle = build(book)
        after = epoch.measure_epochs(repeats=3)['d2l 0.17'][0]
        warm, again, _ = build(book)
        make_test = None if '--no-make-test' in sys.argv else timed_make_test(tmp)
    print(f'\n每页从空缓存执行的时间（共 {len(pages)} 页，由慢到快；{WORKERS} 个内核并行，各用 '
          f'{max(1, epoch.cpu_count() // WORKERS)} 个 PyTorch 线程）：')
    for name, seconds in sorted(pages.items(), key=lambda item: -item[1]):
        print(f'  {seconds:6.1f} s  {name}')
    if idle:
        print(f'\n执行阶段：{idle[1]} 个页面用了 {idle[2]} s，{idle[3]} 个内核共忙 {idle[4]} s，'
              f'内核空闲 {idle[5]}%（目标 ≤ 10%）')
    # 下一次全新检出的构建按这次测得的用时排顺序（_ext/course.py 读它）；提交它和 README 的结果
    ESTIMATES.write_text(json.dumps({name: round(t, 1) for name, t in sorted(pages.items())}, indent=0) + '\n',
                         encoding='utf-8')
    print(f'每页用时已写入 {ESTIMATES.relative_to(ROOT)}')
    old_epoch = (before + after) / 2
    print(f'\n整本书从空缓存构建：{cold:.0f} s = {cold / old_epoch:.1f} 个 d2l 0.17 迭代周期'
          f'（一个周期在构建前 {before:.2f} s、构建后 {after:.2f} s，取平均；目标 ≤ 25 个）')
    if abs(after - before) > 0.15 * min(before, after):
        print('注意：构建前后一个周期的用时相差超过 15%，这台机器的速度在测量中变了，这次的比值不可靠，请重测。')
    print(f'没有改动时重新构建：{warm:.1f} s（重新执行了 {len(again)} 页；目标 < 10 s）')
    if make_test is not None:
        print(f'make test 全程（干净克隆，已有 .venv）：{make_test / 60:.1f} 分钟（目标 < 15 分钟）')


if __name__ == '__main__':
    main()
