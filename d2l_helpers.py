"""《动手学深度学习》第 2–4 章课程的共享辅助模块。

各页面用 ``import d2l_helpers as d2l`` 取代旧的 ``from d2l import torch as d2l``；
函数名与签名沿用 d2l 0.17，按章节引入的顺序排列。

课程所教的函数（``sgd``、``train_ch3`` 等）写在教它的页面里标签为 ``save`` 的代码单元中，这里的同名定义
由 ``make helpers`` 从页面生成：要改它们，改页面，再运行 ``make helpers``（``make test`` 检查两边一致）。

在课程仓库之外也能用：``pip install`` 本仓库（或它构建出的 wheel）即可导入这个模块。

数据文件夹 ``DATA_DIR`` 在导入时按下面的顺序决定（只算出路径，用到时才建立文件夹）：

1. 环境变量 ``D2L_DATA_DIR``（须是绝对路径，可以写 ``~``）；
2. 在课程仓库里运行时（模块旁边有 ``_toc.yml``），用仓库的 ``data/``；
3. 否则用本用户的缓存文件夹：Linux 上是 ``$XDG_CACHE_HOME/d2l-zh-course``（默认
   ``~/.cache/d2l-zh-course``），macOS 上是 ``~/Library/Caches/d2l-zh-course``，
   Windows 上是 ``%LOCALAPPDATA%\\d2l-zh-course\\Cache``。

数据从不放进 site-packages。Fashion-MNIST 的来源见 ``fetch_fashion_mnist``。
"""
import gzip
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import matplotlib
import numpy as np
import torch
from matplotlib import font_manager
from matplotlib import pyplot as plt
from torch import nn
from torch.utils import data

# ---------------------------------------------------------------- 路径与字体

ROOT = Path(__file__).resolve().parent
# 课程仓库的标志：仓库根目录里 Jupyter Book 的目录文件 _toc.yml。它总在仓库里，却从不打进 wheel，
# 所以装在 site-packages 里的模块旁边没有它。不用 data/ 里的文件当标志：读者可能把 data/ 整个删掉。
CHECKOUT_MARKER = '_toc.yml'
# 本用户缓存文件夹里的名字，与发行包的名字相同。
CACHE_NAME = 'd2l-zh-course'


class DataError(RuntimeError):
    """数据文件夹或数据文件有问题；信息里说明是哪一个以及如何修复。"""


def _user_cache_dir():
    """按各系统的惯例给出本用户的缓存文件夹（与 platformdirs 的 user_cache_dir 相同）。"""
    if sys.platform == 'win32':
        base = os.environ.get('LOCALAPPDATA') or Path.home() / 'AppData' / 'Local'
        return Path(base) / CACHE_NAME / 'Cache'
    if sys.platform == 'darwin':
        return Path.home() / 'Library' / 'Caches' / CACHE_NAME
    # Linux 等：XDG 规范只认绝对路径的 XDG_CACHE_HOME，没设或不是绝对路径时用 ~/.cache。
    xdg = os.environ.get('XDG_CACHE_HOME', '')
    return (Path(xdg) if os.path.isabs(xdg) else Path.home() / '.cache') / CACHE_NAME


def _choose_data_dir():
    """数据文件夹：环境变量 D2L_DATA_DIR → 课程仓库的 data/ → 本用户的缓存文件夹。

    与当前工作目录无关（页面在各自的章节目录里运行）；只算出路径，不建立文件夹。
    """
    value = os.environ.get('D2L_DATA_DIR', '')
    if value:
        path = Path(value).expanduser()
        if not path.is_absolute():
            raise DataError(
                f'环境变量 D2L_DATA_DIR 是相对路径 {value!r}：每一页在自己的文件夹里运行，'
                f'相对路径在各页指向不同的地方。\n'
                f'修复方法：把 D2L_DATA_DIR 设为完整路径，例如 {Path.home() / "d2l-data"}；'
                f'或者删除这个环境变量，使用默认的数据文件夹。')
        if path.exists() and not path.is_dir():
            raise DataError(
                f'环境变量 D2L_DATA_DIR 指向 {path}，它是一个文件，不是文件夹。\n'
                f'修复方法：把 D2L_DATA_DIR 设为一个文件夹（不存在时会自动建立）；'
                f'或者删除这个环境变量，使用默认的数据文件夹。')
        return path
    if (ROOT / CHECKOUT_MARKER).is_file():
        return ROOT / 'data'
    return _user_cache_dir()


try:
    DATA_DIR = _choose_data_dir()
except DataError as e:
    if __name__ != '__main__':
        raise
    sys.exit(f'错误：{e}')  # python -m d2l_helpers（make data）：只说原因，不打印回溯

# 按顺序尝试的中文字体，只用本机装了的。
# Linux：Debian 的 fonts-noto-cjk（它的 .ttc 里第一个字体叫 Noto Sans CJK JP）、fonts-wqy-microhei。
# Windows 自带微软雅黑、黑体、等线。macOS 的苹方（PingFang.ttc）里 matplotlib 只读得到第一个字体，
# 常常找不到 PingFang SC，所以后面还列出 macOS 自带的冬青黑体、黑体、宋体和 Arial Unicode MS。
CJK_FONTS = ['Noto Sans CJK SC', 'Noto Sans CJK JP', 'Source Han Sans SC',
             'WenQuanYi Micro Hei', 'WenQuanYi Zen Hei',
             'Microsoft YaHei', 'SimHei', 'DengXian',
             'PingFang SC', 'Hiragino Sans GB', 'Heiti SC', 'Heiti TC', 'STHeiti', 'Songti SC',
             'Arial Unicode MS']


def _use_chinese_fonts():
    """让 matplotlib 先用 DejaVu Sans 画西文，缺字时回退到本机已有的中文字体。"""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    # 只列出已安装的字体：列出缺失的字体会让 matplotlib 打印 findfont 警告。
    cjk = [name for name in CJK_FONTS if name in installed]
    # 字体列表本身作为 family，matplotlib 才会逐字回退（写成 'sans-serif' 时只用第一个字体）。
    plt.rcParams['font.family'] = ['DejaVu Sans'] + cjk
    plt.rcParams['font.sans-serif'] = ['DejaVu Sans'] + cjk


_use_chinese_fonts()


def _in_jupyter():
    """当前是否运行在 Jupyter 内核中（而不是普通脚本或 IPython 终端）。"""
    ipython = sys.modules.get('IPython')
    shell = ipython.get_ipython() if ipython else None
    return getattr(shell, 'kernel', None) is not None


def glue(name, variable, display=True):
    """把一个值交给页面正文中的 {glue} 引用（与 myst_nb.glue 输出相同的消息）。"""
    # myst_nb.glue 的导入会连带加载 nbformat 和 jsonschema，每个内核要多花约 3 秒；
    # 这里只发出同样的显示消息（tests/test_helpers.py 核对两者一致）。
    from IPython.core.formatters import format_display_data
    from IPython.display import display as ipy_display
    # NumPy 标量和零维张量先转成 Python 数（它们的 repr 是 np.float64(…)，{glue:text} 无法格式化）。
    if isinstance(variable, np.generic) or torch.is_tensor(variable) and variable.dim() == 0:
        variable = variable.item()
    mimebundle, metadata = format_display_data(variable)
    prefix = '' if display else 'application/papermill.record/'
    metadata['scrapbook'] = dict(name=name, mime_prefix=prefix)
    ipy_display({prefix + k: v for k, v in mimebundle.items()}, raw=True, metadata=metadata)


# ---------------------------------------------------------------- 2.4 微积分

def use_svg_display():
    """在 Jupyter 中用 SVG 格式显示图像；普通的 Python 脚本里什么也不做。"""
    if 'ipykernel' in sys.modules:
        from matplotlib_inline import backend_inline
        backend_inline.set_matplotlib_formats('svg')


def set_figsize(figsize=(3.5, 2.5)):
    """设置 matplotlib 的图像大小。"""
    use_svg_display()
    plt.rcParams['figure.figsize'] = figsize


def set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend):
    """设置 matplotlib 坐标轴的标签、范围、刻度类型和图例。"""
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xscale(xscale)
    axes.set_yscale(yscale)
    axes.set_xlim(xlim)
    axes.set_ylim(ylim)
    if legend:
        axes.legend(legend)
    axes.grid()


def plot(X, Y=None, xlabel=None, ylabel=None, legend=None, xlim=None,
         ylim=None, xscale='linear', yscale='linear',
         fmts=('-', 'm--', 'g-.', 'r:'), figsize=(3.5, 2.5), axes=None):
    """画一条或多条曲线。"""
    if legend is None:
        legend = []
    set_figsize(figsize)
    axes = axes if axes else plt.gca()

    def has_one_axis(X):  # X 是一维的（一条曲线）吗？
        return (hasattr(X, 'ndim') and X.ndim == 1
                or isinstance(X, list) and not hasattr(X[0], '__len__'))

    if has_one_axis(X):
        X = [X]
    if Y is None:
        X, Y = [[]] * len(X), X
    elif has_one_axis(Y):
        Y = [Y]
    if len(X) != len(Y):
        X = X * len(Y)
    axes.cla()
    for x, y, fmt in zip(X, Y, fmts):
        if len(x):
            axes.plot(x, y, fmt)
        else:
            axes.plot(y, fmt)
    set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend)


# ---------------------------------------------------------------- 3.1 线性回归

class Timer:
    """记录多次运行的时间。"""

    def __init__(self):
        self.times = []
        self.start()

    def start(self):
        """启动计时器。"""
        self.tik = time.perf_counter()

    def stop(self):
        """停止计时器，记录并返回这一段的秒数。"""
        self.times.append(time.perf_counter() - self.tik)
        return self.times[-1]

    def avg(self):
        """返回平均时间。"""
        return sum(self.times) / len(self.times)

    def sum(self):
        """返回时间总和。"""
        return sum(self.times)

    def cumsum(self):
        """返回累计时间。"""
        return np.array(self.times).cumsum().tolist()


# ---------------------------------------------------------------- 3.2 线性回归的从零开始实现

def synthetic_data(w, b, num_examples):
    """生成 y = Xw + b + 噪声。"""
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


def linreg(X, w, b):
    """线性回归模型。"""
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    """平方损失（每个样本一个值）。"""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    """小批量随机梯度下降。"""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


# ---------------------------------------------------------------- 3.3 线性回归的简洁实现

def load_array(data_arrays, batch_size, is_train=True):
    """用张量构造一个 PyTorch 数据迭代器。"""
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


# ---------------------------------------------------------------- 3.5 图像分类数据集

# 四个原始 idx 文件（解压后）的字节数与 SHA-256，与官方发布的文件一致。
FASHION_MNIST_FILES = {
    'train-images-idx3-ubyte': (47040016, 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888'),
    'train-labels-idx1-ubyte': (60008, 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9'),
    't10k-images-idx3-ubyte': (7840016, '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b'),
    't10k-labels-idx1-ubyte': (10008, '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34'),
}
# Debian 的 dataset-fashion-mnist 包把 .gz 文件放在这里；只在 Linux 上找它。
SYSTEM_FASHION_MNIST = Path('/usr/share/datasets/fashion-mnist')
# torchvision 下载 Fashion-MNIST 时使用的官方镜像。
FASHION_MNIST_MIRROR = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'
# 重新取得数据的命令：在任何系统、仓库内外都能用；仓库里有 make 时也可以用 make data。
FETCH_COMMAND = '`python -m d2l_helpers`（在课程仓库里也可以运行 `make data`）'


def _fashion_mnist_dir(root=None):
    return Path(root or DATA_DIR) / 'FashionMNIST' / 'raw'


def _check_file(path):
    """核对一个原始文件的大小和 SHA-256，不符时抛出 DataError。"""
    size, sha256 = FASHION_MNIST_FILES[path.name]
    actual = path.stat().st_size
    if actual != size:
        problem = f'大小为 {actual} 字节，应为 {size} 字节（文件被截断或不完整）'
    else:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest == sha256:
            return
        problem = f'SHA-256 为 {digest}，应为 {sha256}（文件已损坏）'
    raise DataError(f'Fashion-MNIST 文件 {path} {problem}。\n'
                    f'修复方法：删除这个文件，再运行 {FETCH_COMMAND}。')


def _install_gz(source, target):
    """把 .gz 文件解压到 target：先写临时文件，核对无误后再改名，绝不留下半个文件。"""
    fd, tmp = tempfile.mkstemp(prefix=f'.{target.name}.', suffix='.part',
                               dir=target.parent)
    tmp = Path(tmp)
    try:
        with os.fdopen(fd, 'wb') as out, gzip.open(source, 'rb') as src:
            shutil.copyfileobj(src, out)
        size, sha256 = FASHION_MNIST_FILES[target.name]
        if tmp.stat().st_size != size or hashlib.sha256(tmp.read_bytes()).hexdigest() != sha256:
            raise DataError(f'{source} 解压后与官方的 {target.name} 不一致（大小或 SHA-256 不符）。')
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f'无法从 {source} 解压出 {target.name}：{e}') from e
    finally:
        tmp.unlink(missing_ok=True)


def _download_gz(name, workdir):
    """用 torchvision 从官方镜像下载 name.gz 到 workdir，返回下载的路径。"""
    from torchvision.datasets.utils import download_url
    download_url(FASHION_MNIST_MIRROR + name + '.gz', str(workdir))
    return Path(workdir) / (name + '.gz')


def fetch_fashion_mnist(root=None):
    """确保四个 Fashion-MNIST 原始文件在 root（默认 DATA_DIR）下的 FashionMNIST/raw/ 中并且完好，返回该目录。

    依次尝试：已有文件 → Debian 包 dataset-fashion-mnist 的系统副本（只在 Linux 上）
    → torchvision 从官方镜像下载。每个文件都核对大小和 SHA-256。
    """
    raw = _fashion_mnist_dir(root)
    raw.mkdir(parents=True, exist_ok=True)
    on_linux = sys.platform.startswith('linux')
    for name in FASHION_MNIST_FILES:
        target = raw / name
        if target.exists():
            _check_file(target)
            continue
        failures = []
        system_copy = SYSTEM_FASHION_MNIST / (name + '.gz')
        if on_linux and system_copy.exists():
            try:
                _install_gz(system_copy, target)
                continue
            except DataError as e:
                failures.append(str(e))
        elif on_linux:
            failures.append(f'没有系统副本 {system_copy}')
        try:
            with tempfile.TemporaryDirectory(dir=raw) as workdir:
                _install_gz(_download_gz(name, workdir), target)
            continue
        except Exception as e:  # 网络错误种类繁多，这里统一报告
            failures.append(f'从 {FASHION_MNIST_MIRROR} 下载失败：{e}')
        ways = [f'把四个解压后的 idx 文件放进文件夹 {raw}（数据文件夹也可以用环境变量 D2L_DATA_DIR 指定）',
                f'在能访问 {FASHION_MNIST_MIRROR} 的网络下运行 {FETCH_COMMAND}']
        if on_linux:
            ways.insert(1, '在 Debian/Ubuntu 上安装系统包：sudo apt-get install dataset-fashion-mnist，'
                           f'再运行 {FETCH_COMMAND}')
        raise DataError(
            f'找不到 Fashion-MNIST 文件 {name}。\n尝试过的来源：\n  - ' + '\n  - '.join(failures)
            + '\n获取数据的方法：\n' + '；\n'.join(f'  {i}. {way}' for i, way in enumerate(ways, 1)) + '。')
    return raw


def _read_idx(path):
    """把一个 idx 文件读成 numpy 数组（uint8）。"""
    raw = path.read_bytes()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], 'big') for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


_FASHION_MNIST_CACHE = {}


def read_fashion_mnist(train):
    """读出 Fashion-MNIST 的训练集（train=True）或测试集：(X, y)，X 为 (N, 1, 28, 28) 的 float32，取值 [0, 1]，
    y 为 int64 标签。每个进程只读一次文件，之后直接返回内存里的张量。"""
    if train not in _FASHION_MNIST_CACHE:
        raw = fetch_fashion_mnist()
        prefix = 'train' if train else 't10k'
        images = _read_idx(raw / f'{prefix}-images-idx3-ubyte')
        labels = _read_idx(raw / f'{prefix}-labels-idx1-ubyte')
        X = torch.from_numpy(images.copy()).unsqueeze(1).float().div_(255)
        y = torch.from_numpy(labels.astype(np.int64))
        _FASHION_MNIST_CACHE[train] = (X, y)
    return _FASHION_MNIST_CACHE[train]


def get_fashion_mnist_labels(labels):
    """返回 Fashion-MNIST 数据集的文本标签。"""
    text_labels = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat',
                   'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot']
    return [text_labels[int(i)] for i in labels]


def show_images(imgs, num_rows, num_cols, titles=None, scale=1.5):
    """把一组图像画成网格。"""
    figsize = (num_cols * scale, num_rows * scale)
    _, axes = plt.subplots(num_rows, num_cols, figsize=figsize)
    axes = axes.flatten()
    for i, (ax, img) in enumerate(zip(axes, imgs)):
        if torch.is_tensor(img):
            img = img.detach().cpu().numpy()
        ax.imshow(img)
        ax.axes.get_xaxis().set_visible(False)
        ax.axes.get_yaxis().set_visible(False)
        if titles:
            ax.set_title(titles[i])
    return axes


def get_dataloader_workers():
    """返回适合本机的 DataLoader 工作进程数：Windows 上为 0，其余为可用 CPU 核数（至多 4）。"""
    if os.name == 'nt':  # Windows 上的工作进程是常见的出错来源
        return 0
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    return min(4, cpus or 1)


class TensorLoader:
    """按小批量切片一个放在内存里的张量对；训练集每轮重新打乱。"""

    def __init__(self, X, y, batch_size, shuffle):
        if batch_size < 1:
            raise ValueError(f'batch_size 必须是正整数，收到 {batch_size!r}')
        self.X, self.y = X, y
        self.batch_size, self.shuffle = batch_size, shuffle

    def __len__(self):
        return (len(self.y) + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        n, b = len(self.y), self.batch_size
        if self.shuffle:
            idx = torch.randperm(n)
            for i in range(0, n, b):
                j = idx[i: i + b]
                yield self.X[j], self.y[j]
        else:
            for i in range(0, n, b):
                yield self.X[i: i + b], self.y[i: i + b]


def load_data_fashion_mnist(batch_size, resize=None):
    """返回 Fashion-MNIST 的 (train_iter, test_iter)。"""
    # 整个数据集只有约 200 MB：读一次放进内存，按索引切片取批量，
    # 比逐个样本解码、再用工作进程拼批量（d2l 0.17 的做法）快得多。
    loaders = []
    for train in (True, False):
        X, y = read_fashion_mnist(train)
        if resize:
            size = [resize, resize] if isinstance(resize, int) else list(resize)
            X = nn.functional.interpolate(X, size=size, mode='bilinear',
                                          antialias=True, align_corners=False)
        loaders.append(TensorLoader(X, y, batch_size, shuffle=train))
    return tuple(loaders)


# ---------------------------------------------------------------- 3.6 softmax 回归的从零开始实现

def accuracy(y_hat, y):
    """返回预测正确的样本数。"""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def evaluate_accuracy(net, data_iter):
    """计算模型在数据集上的精度。"""
    if isinstance(net, nn.Module):
        net.eval()  # 评估模式：关闭暂退法等只在训练时起作用的层
    metric = Accumulator(2)  # 正确预测数、预测总数
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


class Accumulator:
    """在 n 个变量上累加。"""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def train_epoch_ch3(net, train_iter, loss, updater):
    """训练模型一个迭代周期，返回 (平均训练损失, 训练精度)。"""
    if isinstance(net, nn.Module):
        net.train()
    metric = Accumulator(3)  # 训练损失总和、正确预测数、样本数
    for X, y in train_iter:
        y_hat = net(X)
        if y_hat.dim() == 2 and not y.is_floating_point() and not 0 <= y.min() <= y.max() < y_hat.shape[1]:
            # 否则损失函数会报一个难懂的下标错误
            raise ValueError(f'标签取值 {int(y.min())}…{int(y.max())}，而模型只输出 {y_hat.shape[1]} 个类别的分数：'
                             '请检查最后一层的输出个数。')
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        # 损失若已按批量求平均（reduction='mean'），乘回样本数再累加。
        l_sum = l.detach().sum() if l.dim() else l.detach() * y.numel()
        metric.add(l_sum, accuracy(y_hat.detach(), y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


class Animator:
    """在训练过程中增量地画曲线。

    在 Jupyter 中，图在同一个位置原地刷新（至多每 ``redraw_every`` 秒一次），单元格结束时
    再画最后一次，所以页面上只留下一张完整的最终图。没有人看着的执行（构建网站、nbval）设置
    环境变量 ``D2L_LIVE_PLOTS=0``，这时只在单元格结束时画那一次，省下中间各次渲染的时间。
    在普通脚本或 IDE 中不打印任何东西：交互式后端下窗口实时刷新，最终的图留在窗口里显示；
    非交互式后端（如 Agg）下不显示，最终的图在 ``self.fig`` 中，可用 ``self.fig.savefig`` 保存。
    """

    def __init__(self, xlabel=None, ylabel=None, legend=None, xlim=None,
                 ylim=None, xscale='linear', yscale='linear',
                 fmts=('-', 'm--', 'g-.', 'r:'), nrows=1, ncols=1,
                 figsize=(3.5, 2.5), redraw_every=1.0):
        if legend is None:
            legend = []
        use_svg_display()
        self.fig, self.axes = plt.subplots(nrows, ncols, figsize=figsize)
        if nrows * ncols == 1:
            self.axes = [self.axes, ]
        self.config_axes = lambda: set_axes(
            self.axes[0], xlabel, ylabel, xlim, ylim, xscale, yscale, legend)
        self.X, self.Y, self.fmts = None, None, fmts
        self.redraw_every = redraw_every
        self._jupyter = _in_jupyter()
        self._live = os.environ.get('D2L_LIVE_PLOTS', '1') != '0'
        self._handle, self._last_draw, self._pending = None, 0.0, False
        if self._jupyter:
            # 从 pyplot 中移除，免得单元格结束时 inline 后端再画一遍；由 Animator 自己显示。
            plt.close(self.fig)

    def add(self, x, y):
        """向图中添加一组数据点（每条曲线一个）。"""
        if not hasattr(y, '__len__'):
            y = [y]
        n = len(y)
        if not hasattr(x, '__len__'):
            x = [x] * n
        if not self.X:
            self.X = [[] for _ in range(n)]
        if not self.Y:
            self.Y = [[] for _ in range(n)]
        for i, (a, b) in enumerate(zip(x, y)):
            if a is not None and b is not None:
                self.X[i].append(a)
                self.Y[i].append(b)
        if not self._jupyter:
            self._draw()
        elif self._live and time.perf_counter() - self._last_draw >= self.redraw_every:
            self._draw()
        elif not self._pending:
            # 渲染一张图比训练一个小批量还贵：不到时间就先不画，单元格结束时补画最后一次。
            self._pending = True
            from IPython import get_ipython
            get_ipython().events.register('post_run_cell', self._flush)

    def _flush(self, *args):
        from IPython import get_ipython
        get_ipython().events.unregister('post_run_cell', self._flush)
        if self._pending:
            self._draw()

    def _draw(self):
        self.axes[0].cla()
        for x, y, fmt in zip(self.X, self.Y, self.fmts):
            self.axes[0].plot(x, y, fmt)
        self.config_axes()
        self._pending = False
        if self._jupyter:
            from IPython.display import display
            if self._handle is None:
                self._handle = display(self.fig, display_id=True)
            else:
                self._handle.update(self.fig)
            self._last_draw = time.perf_counter()
        elif matplotlib.get_backend().lower() not in _NON_INTERACTIVE_BACKENDS:
            plt.show(block=False)
            plt.pause(0.001)


_NON_INTERACTIVE_BACKENDS = {'agg', 'cairo', 'pdf', 'pgf', 'ps', 'svg', 'template'}


def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater):
    """训练模型，画出训练损失、训练精度和测试精度；返回最后一个周期的 (训练损失, 训练精度, 测试精度)。"""
    if num_epochs < 1:
        raise ValueError(f'num_epochs 必须至少为 1，收到 {num_epochs!r}')
    animator = Animator(xlabel='epoch', xlim=[1, max(num_epochs, 2)], ylim=[0.3, 0.9],
                        legend=['train loss', 'train acc', 'test acc'])
    for epoch in range(num_epochs):
        train_metrics = train_epoch_ch3(net, train_iter, loss, updater)
        test_acc = evaluate_accuracy(net, test_iter)
        animator.add(epoch + 1, train_metrics + (test_acc,))
        if not np.isfinite(train_metrics[0]):
            raise FloatingPointError(
                f'第 {epoch + 1} 个迭代周期的训练损失是 {train_metrics[0]}：训练发散了。'
                '常见原因是学习率太大，或损失函数对 0 取了对数；把学习率调小再试。')
    train_loss, train_acc = train_metrics
    # 结果好不好由调用者判断（本书的页面在隐藏单元格里检查自己的说法）；这里只返回最后一个周期的指标。
    return train_loss, train_acc, test_acc


def predict_ch3(net, test_iter, n=6):
    """预测测试集第一个批量中前 n 张图像的标签，并显示图像、真实标签和预测标签。"""
    for X, y in test_iter:
        break
    if isinstance(net, nn.Module):
        net.eval()
    with torch.no_grad():
        preds = get_fashion_mnist_labels(net(X).argmax(axis=1))
    trues = get_fashion_mnist_labels(y)
    titles = [true + '\n' + pred for true, pred in zip(trues, preds)]
    show_images(X[0:n].reshape((n, X.shape[-2], X.shape[-1])), 1, n, titles=titles[0:n])


# ---------------------------------------------------------------- 4.4 模型选择、欠拟合和过拟合

def evaluate_loss(net, data_iter, loss):
    """计算模型在数据集上每个元素的平均损失。"""
    if isinstance(net, nn.Module):
        net.eval()  # 与 evaluate_accuracy 一样：评估时关闭暂退法等
    metric = Accumulator(2)  # 损失总和、元素数
    with torch.no_grad():
        for X, y in data_iter:
            out = net(X)
            y = y.reshape(out.shape)
            l = loss(out, y)
            # reduction='mean' 的损失已经是平均值：乘回元素数，大小不同的批量才能正确加权
            metric.add(l.sum() if l.dim() else l * y.numel(), l.numel() if l.dim() else y.numel())
    return metric[0] / metric[1]


# ---------------------------------------------------------------- 其他

def try_gpu(i=0):
    """若存在第 i 块 GPU 则返回它，否则返回 CPU。"""
    if torch.cuda.device_count() >= i + 1:
        return torch.device(f'cuda:{i}')
    return torch.device('cpu')


# ---------------------------------------------------------------- d2l 0.17 的框架别名
# 《动手学深度学习》同一份代码要在 MXNet、PyTorch、TensorFlow 上都能运行，于是 d2l 包给常用运算起了
# 与框架无关的名字（d2l.ones、d2l.reduce_sum …），书中的代码直接调用它们。这里让它们指向对应的 PyTorch
# 运算，行为与 d2l 0.17 相同。注意：abs 遮住了内置函数，所以本模块自己的代码不要用内置的 abs()。

ones, zeros, tensor, arange = torch.ones, torch.zeros, torch.tensor, torch.arange
sin, sinh, cos, cosh, tanh = torch.sin, torch.sinh, torch.cos, torch.cosh, torch.tanh
linspace, exp, log, normal, rand = torch.linspace, torch.exp, torch.log, torch.normal, torch.rand
matmul, stack, abs, eye = torch.matmul, torch.stack, torch.abs, torch.eye
concat = torch.cat
int32, float32 = torch.int32, torch.float32


def meshgrid(*tensors, indexing='ij'):
    """torch.meshgrid；d2l 0.17 时代的默认就是 'ij'，写明它，新版 PyTorch 就不再警告。"""
    return torch.meshgrid(*tensors, indexing=indexing)


# 下面这些其实是张量的方法，写成函数的样子：第一个参数是张量，其余参数原样转给方法。
def numpy(x, *args, **kwargs):
    """x.detach().numpy()：先脱离计算图，带梯度的张量也能转换。"""
    return x.detach().numpy(*args, **kwargs)


def size(x, *args, **kwargs):
    """元素总数 x.numel()（不是形状）。"""
    return x.numel(*args, **kwargs)


def reshape(x, *args, **kwargs):
    return x.reshape(*args, **kwargs)


def to(x, *args, **kwargs):
    return x.to(*args, **kwargs)


def reduce_sum(x, *args, **kwargs):
    """x.sum(...)，例如 reduce_sum(x, axis=0)。"""
    return x.sum(*args, **kwargs)


def reduce_mean(x, *args, **kwargs):
    return x.mean(*args, **kwargs)


def argmax(x, *args, **kwargs):
    """x.argmax(...)，例如 argmax(x, axis=1)。"""
    return x.argmax(*args, **kwargs)


def astype(x, *args, **kwargs):
    """x.type(dtype)：转换元素类型。"""
    return x.type(*args, **kwargs)


def transpose(x, *args, **kwargs):
    """x.t()：矩阵（至多二维）的转置。"""
    return x.t(*args, **kwargs)


if __name__ == '__main__':  # python -m d2l_helpers（即 make data）：取得并校验 Fashion-MNIST
    try:
        print('Fashion-MNIST 已就绪：', fetch_fashion_mnist())
    except DataError as e:
        sys.exit(f'错误：{e}')
