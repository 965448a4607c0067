"""一个 Fashion-MNIST 迭代周期（训练 + 测试精度）的耗时：本书的 d2l_helpers 对比 d2l 0.17 的流水线。

d2l 0.17 的做法在这里重新实现：torchvision 数据集、逐个样本的 ToTensor、4 个工作进程的 DataLoader，
以及同样的训练循环。两者在同一次运行、同一台机器上测量，报告比值。
用法：.venv/bin/python benchmarks/epoch.py  （或 make bench）
"""
import os
import platform
import time
import warnings

import torch
import torchvision
from torch import nn
from torch.utils import data
from torchvision import transforms

import d2l_helpers as d2l


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


# ---- d2l 0.17 的流水线（按其源码的做法重写）

def d2l017_iters(batch_size, workers=4):
    trans = transforms.ToTensor()
    root = str(d2l.DATA_DIR)
    train = torchvision.datasets.FashionMNIST(root=root, train=True, transform=trans)
    test = torchvision.datasets.FashionMNIST(root=root, train=False, transform=trans)
    return (data.DataLoader(train, batch_size, shuffle=True, num_workers=workers),
            data.DataLoader(test, batch_size, shuffle=False, num_workers=workers))


def d2l017_accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def d2l017_epoch(net, train_iter, test_iter, loss, updater):
    net.train()
    metric = [0.0, 0.0, 0.0]
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        updater.zero_grad()
        l.mean().backward()
        updater.step()
        metric = [a + float(b) for a, b in
                  zip(metric, (l.detach().sum(), d2l017_accuracy(y_hat, y), y.numel()))]
    net.eval()
    correct = total = 0.0
    with torch.no_grad():
        for X, y in test_iter:
            correct += d2l017_accuracy(net(X), y)
            total += y.numel()
    return metric[0] / metric[2], metric[1] / metric[2], correct / total


# ---- 本书

def ours_epoch(net, train_iter, test_iter, loss, updater):
    train_loss, train_acc = d2l.train_epoch_ch3(net, train_iter, loss, updater)
    return train_loss, train_acc, d2l.evaluate_accuracy(net, test_iter)


# ---- 计算下限：同样的前向和反向，批量早已在内存里，不做任何数据处理

def floor_epoch(net, batches, test_batches, loss, updater):
    net.train()
    for X, y in batches:
        l = loss(net(X), y)
        updater.zero_grad()
        l.mean().backward()
        updater.step()
    net.eval()
    with torch.no_grad():
        for X, y in test_batches:
            net(X)


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def measure_epochs(repeats=3, batch_size=256):
    """返回 {名称: (最短秒数, (训练损失, 训练精度, 测试精度))}。"""
    # d2l 0.17 在 2 核机器上用 4 个工作进程，PyTorch 会为此警告；这正是被测的原样做法，不必显示。
    warnings.filterwarnings('ignore', message='This DataLoader will create')
    loss = nn.CrossEntropyLoss(reduction='none')
    ours_iters = d2l.load_data_fashion_mnist(batch_size)
    old_iters = d2l017_iters(batch_size)
    # 计算下限用的批量：提前切好，训练时只剩前向、反向和更新。
    batches = list(ours_iters[0])
    test_batches = list(ours_iters[1])
    results = {}
    for name, run, iters in (('d2l 0.17', d2l017_epoch, old_iters),
                             ('d2l_helpers', ours_epoch, ours_iters),
                             ('计算下限', floor_epoch, (batches, test_batches))):
        best = None
        for _ in range(repeats):
            net = mlp()
            updater = torch.optim.SGD(net.parameters(), lr=0.1)
            seconds, metrics = timed(run, net, *iters, loss, updater)
            if best is None or seconds < best[0]:
                best = (seconds, metrics)
        results[name] = best
    return results


def cpu_count():
    return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()


def machine():
    return (f'{platform.processor() or platform.machine()}, {cpu_count()} 个 CPU 核, Python {platform.python_version()}, '
            f'torch {torch.__version__}（{torch.get_num_threads()} 线程）, torchvision {torchvision.__version__}')


def main():
    print('机器：', machine())
    results = measure_epochs()
    old = results['d2l 0.17'][0]
    ours = results['d2l_helpers'][0]
    floor = results['计算下限'][0]
    print('\n一个迭代周期（784-256-10 MLP，批量 256，训练 + 测试精度；3 次取最短）')
    for name, (seconds, metrics) in results.items():
        acc = '' if metrics is None else f'  训练损失 {metrics[0]:.3f}  训练精度 {metrics[1]:.3f}  测试精度 {metrics[2]:.3f}'
        print(f'  {name:12s} {seconds:7.2f} s{acc}')
    print(f'\n  d2l 0.17 / d2l_helpers = {old / ours:.1f}×（目标 ≥ 6×）')
    print(f'  d2l_helpers / 计算下限 = {ours / floor:.2f}×（目标 ≤ 1.3×）')
    return results


if __name__ == '__main__':
    main()
