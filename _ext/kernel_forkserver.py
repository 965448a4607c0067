"""为构建中的每一页 fork 出一个全新的 IPython 内核，省掉每页重复导入 torch 等大模块的时间。

这个进程只导入第三方的包（torch、numpy、pandas、matplotlib、ipykernel），不执行任何页面代码，
也不导入本仓库的文件。构建（_ext/course.py）每要一个内核，就往它的标准输入写一行 JSON：
{"argv": [...], "cwd": ..., "env": {...}, "log": 日志文件}；它 fork 一次，在标准输出回一行子进程的 pid。
子进程换上这一页的工作目录、环境变量和日志文件，像 `python -m ipykernel_launcher` 一样启动内核，
页面结束时整个进程退出。每页仍是一个独立的进程：一页设的全局变量、改的模块，别的页面看不到。
标准输入关闭（构建结束或中断）时它随即退出；它 fork 出的内核发现它不在了也会退出。
"""
import atexit
import json
import os
import signal
import sys

if __name__ == '__main__':
    del sys.path[0]  # 本文件所在的 _ext 目录：与 ipykernel_launcher 一样，内核的 sys.path 里不带启动目录

# 与 ipykernel 启动内核时的设置相同（IPKernelApp.init_gui_pylab）。matplotlib 导入时读这个变量，
# 所以要在导入之前设好，fork 出的内核里 matplotlib 的后端才与全新内核的一样。
os.environ.setdefault('MPLBACKEND', 'module://matplotlib_inline.backend_inline')

# matplotlib.pyplot 导入时并不加载后端：后端到第一次画图时才在内核里加载，与全新内核一样接上 IPython。
PRELOAD = ('torch', 'numpy', 'pandas', 'matplotlib.pyplot', 'ipykernel.kernelapp')


def _start_kernel(request):
    """在 fork 出的子进程里运行：与 `python -m ipykernel_launcher <argv>` 启动的内核相同。"""
    os.setsid()  # 与 jupyter_client 一样让内核自成一个会话，构建能向整个进程组发信号
    for sig in (signal.SIGCHLD, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    # 标准输入输出原是与构建相连的管道：换成 /dev/null 和这一页的日志文件
    null, log = os.open(os.devnull, os.O_RDONLY), os.open(request['log'], os.O_WRONLY | os.O_APPEND)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(null)
    os.close(log)
    os.chdir(request['cwd'])
    os.environ.clear()
    os.environ.update(request['env'])
    # 全新的进程里 torch 和 numpy 的全局随机数发生器都用系统熵播种；fork 出的各页会共用这里的状态，
    # 所以各自重新播种（Python 的 random 模块在 fork 后自己会重新播种）。
    if 'torch' in sys.modules:
        sys.modules['torch'].default_generator.seed()
    if 'numpy.random' in sys.modules:
        sys.modules['numpy.random'].seed()
    import ipykernel_launcher
    from ipykernel.kernelapp import IPKernelApp
    sys.argv = [ipykernel_launcher.__file__, *request['argv']]
    # 内核看着的父进程是这个 fork 服务器：它退出（构建结束或被中断）时内核也退出
    IPKernelApp.launch_instance(argv=[*request['argv'], f'--IPKernelApp.parent_handle={os.getppid()}'])


def main():
    # Ctrl-C 由构建处理（它结束内核、关闭标准输入），服务器自己从一开始就不理会，导入模块时也一样
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:  # 缺哪个包，页面导入时自己会报错；这里不预先导入就是了
            pass
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # 退出的内核自动回收，不留僵尸进程
    print('ready', flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                _start_kernel(request)
                code = 0
            except SystemExit as exc:  # 与解释器相同：None 是 0，整数照用，其余是 1
                code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                import traceback
                traceback.print_exc()
                code = 1
            # 与正常退出的解释器一样运行 atexit 里登记的收尾（如 IPython 保存历史），然后直接退出，
            # 绝不回到服务器的循环里
            atexit._run_exitfuncs()
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            os._exit(code)
        print(pid, flush=True)


if __name__ == '__main__':
    main()
