"""d2l_helpers 能直接替换 ``from d2l import torch as d2l``：名字、签名和别名的行为与 d2l 0.17 一致。"""
import inspect
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

import d2l_helpers as d2l
from conftest import ROOT, run_in_kernel

# d2l 0.17 中第 2–4 章用到的函数和类，以及它们的签名（位置参数和默认值）。
# 写下来而不是从 d2l 包读取：它装不上今天的 PyTorch。本模块可以在末尾多加带默认值的关键字参数。
FIGSIZE = (3.5, 2.5)
FMTS = ('-', 'm--', 'g-.', 'r:')
SIGNATURES = {
    'use_svg_display': [],
    'set_figsize': [('figsize', FIGSIZE)],
    'set_axes': ['axes', 'xlabel', 'ylabel', 'xlim', 'ylim', 'xscale', 'yscale', 'legend'],
    'plot': ['X', ('Y', None), ('xlabel', None), ('ylabel', None), ('legend', None), ('xlim', None),
             ('ylim', None), ('xscale', 'linear'), ('yscale', 'linear'), ('fmts', FMTS),
             ('figsize', FIGSIZE), ('axes', None)],
    'Timer': [],
    'synthetic_data': ['w', 'b', 'num_examples'],
    'linreg': ['X', 'w', 'b'],
    'squared_loss': ['y_hat', 'y'],
    'sgd': ['params', 'lr', 'batch_size'],
    'load_array': ['data_arrays', 'batch_size', ('is_train', True)],
    'get_fashion_mnist_labels': ['labels'],
    'show_images': ['imgs', 'num_rows', 'num_cols', ('titles', None), ('scale', 1.5)],
    'get_dataloader_workers': [],
    'load_data_fashion_mnist': ['batch_size', ('resize', None)],
    'accuracy': ['y_hat', 'y'],
    'evaluate_accuracy': ['net', 'data_iter'],
    'Accumulator': ['n'],
    'train_epoch_ch3': ['net', 'train_iter', 'loss', 'updater'],
    'Animator': [('xlabel', None), ('ylabel', None), ('legend', None), ('xlim', None), ('ylim', None),
                 ('xscale', 'linear'), ('yscale', 'linear'), ('fmts', FMTS), ('nrows', 1),
                 ('ncols', 1), ('figsize', FIGSIZE)],
    'train_ch3': ['net', 'train_iter', 'test_iter', 'loss', 'num_epochs', 'updater'],
    'predict_ch3': ['net', 'test_iter', ('n', 6)],
    'evaluate_loss': ['net', 'data_iter', 'loss'],
    'try_gpu': [('i', 0)],
}
METHODS = {  # 类的方法：Timer、Accumulator、Animator
    ('Timer', 'start'): [], ('Timer', 'stop'): [], ('Timer', 'avg'): [], ('Timer', 'sum'): [],
    ('Timer', 'cumsum'): [], ('Accumulator', 'add'): '*args', ('Accumulator', 'reset'): [],
    ('Accumulator', '__getitem__'): ['idx'], ('Animator', 'add'): ['x', 'y'],
}


def parameters(function):
    params = list(inspect.signature(function).parameters.values())
    return [p for p in params if p.name != 'self']


@pytest.mark.parametrize('name', SIGNATURES)
def test_signature_matches_d2l_0_17(name):
    expected = SIGNATURES[name]
    obj = getattr(d2l, name)
    params = parameters(obj.__init__ if inspect.isclass(obj) else obj)
    head = params[:len(expected)]
    got = [p.name if p.default is inspect.Parameter.empty else (p.name, p.default) for p in head]
    assert got == expected, f'{name} 的参数与 d2l 0.17 不同'
    assert all(p.kind == p.POSITIONAL_OR_KEYWORD for p in head), name
    extra = params[len(expected):]
    assert all(p.default is not inspect.Parameter.empty or p.kind == p.VAR_KEYWORD for p in extra), \
        f'{name} 多出的参数必须有默认值，按 d2l 0.17 写的调用才不会出错：{extra}'


@pytest.mark.parametrize('cls, method', METHODS)
def test_method_signature_matches_d2l_0_17(cls, method):
    params = parameters(getattr(getattr(d2l, cls), method))
    expected = METHODS[cls, method]
    if expected == '*args':
        assert [p.kind for p in params] == [inspect.Parameter.VAR_POSITIONAL]
    else:
        assert [p.name for p in params if p.default is inspect.Parameter.empty] == expected


X = torch.arange(12, dtype=torch.float32).reshape(3, 4)

# 别名 → 它代替的 PyTorch 调用。每一项：(d2l 的调用, 对应的 torch 调用)。
ALIASES = {
    'ones': (lambda: d2l.ones((2, 3)), lambda: torch.ones((2, 3))),
    'zeros': (lambda: d2l.zeros(2, 3), lambda: torch.zeros(2, 3)),
    'tensor': (lambda: d2l.tensor([[1, 2], [3, 4]]), lambda: torch.tensor([[1, 2], [3, 4]])),
    'arange': (lambda: d2l.arange(1, 10, 2), lambda: torch.arange(1, 10, 2)),
    'meshgrid': (lambda: d2l.meshgrid(torch.arange(3), torch.arange(2)),
                 lambda: torch.meshgrid(torch.arange(3), torch.arange(2), indexing='ij')),
    'sin': (lambda: d2l.sin(X), lambda: torch.sin(X)),
    'sinh': (lambda: d2l.sinh(X / 10), lambda: torch.sinh(X / 10)),
    'cos': (lambda: d2l.cos(X), lambda: torch.cos(X)),
    'cosh': (lambda: d2l.cosh(X / 10), lambda: torch.cosh(X / 10)),
    'tanh': (lambda: d2l.tanh(X), lambda: torch.tanh(X)),
    'linspace': (lambda: d2l.linspace(-1, 1, 5), lambda: torch.linspace(-1, 1, 5)),
    'exp': (lambda: d2l.exp(X), lambda: torch.exp(X)),
    'log': (lambda: d2l.log(X + 1), lambda: torch.log(X + 1)),
    'matmul': (lambda: d2l.matmul(X, X.T), lambda: X @ X.T),
    'concat': (lambda: d2l.concat((X, X), dim=1), lambda: torch.cat((X, X), dim=1)),
    'stack': (lambda: d2l.stack([X, X]), lambda: torch.stack([X, X])),
    'abs': (lambda: d2l.abs(-X), lambda: torch.abs(-X)),
    'eye': (lambda: d2l.eye(3), lambda: torch.eye(3)),
    'size': (lambda: d2l.size(X), lambda: X.numel()),
    'reshape': (lambda: d2l.reshape(X, (4, 3)), lambda: X.reshape(4, 3)),
    'to': (lambda: d2l.to(X, torch.float64), lambda: X.to(torch.float64)),
    'reduce_sum': (lambda: d2l.reduce_sum(X, axis=0), lambda: X.sum(dim=0)),
    'reduce_mean': (lambda: d2l.reduce_mean(X, axis=1, keepdims=True), lambda: X.mean(dim=1, keepdim=True)),
    'argmax': (lambda: d2l.argmax(X, axis=1), lambda: X.argmax(dim=1)),
    'astype': (lambda: d2l.astype(X, torch.int32), lambda: X.type(torch.int32)),
    'transpose': (lambda: d2l.transpose(X), lambda: X.t()),
}


@pytest.mark.parametrize('name', ALIASES)
def test_alias_does_what_the_torch_call_does(name, recwarn):
    ours, theirs = (f() for f in ALIASES[name])
    if isinstance(ours, int):
        assert type(theirs) is int and ours == theirs
    elif isinstance(ours, tuple):
        assert len(ours) == len(theirs) and all(torch.equal(a, b) for a, b in zip(ours, theirs))
    else:
        assert ours.dtype == theirs.dtype and torch.equal(ours, theirs)
    assert not recwarn.list, [str(w.message) for w in recwarn.list]  # 例如 meshgrid 的 indexing 警告


def test_normal_and_rand_draw_like_torch():
    torch.manual_seed(0)
    a, b = d2l.normal(0, 1, (3,)), d2l.rand(2, 2)
    torch.manual_seed(0)
    assert torch.equal(a, torch.normal(0, 1, (3,))) and torch.equal(b, torch.rand(2, 2))


def test_numpy_detaches_and_dtypes_are_torch_dtypes():
    w = torch.ones(3, requires_grad=True) * 2
    assert isinstance(d2l.numpy(w), np.ndarray) and d2l.numpy(w).tolist() == [2.0, 2.0, 2.0]
    assert d2l.int32 is torch.int32 and d2l.float32 is torch.float32


def test_every_d2l_name_is_present():
    names = set(SIGNATURES) | set(ALIASES) | {'normal', 'rand', 'numpy', 'int32', 'float32', 'plt'}
    assert not [name for name in names if not hasattr(d2l, name)]


# ---------------------------------------------------------------- 学习者的实验不被辅助函数打断

def tiny_data(n=64, classes=10):
    torch.manual_seed(0)
    X, y = torch.rand(n, 1, 28, 28), torch.randint(0, classes, (n,))
    return [(X[:32], y[:32]), (X[32:], y[32:])]


def test_train_ch3_returns_metrics_for_a_poor_run():
    data = tiny_data()
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    trainer = torch.optim.SGD(net.parameters(), lr=0.001)
    train_loss, train_acc, test_acc = d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(reduction='none'),
                                                    1, trainer)
    assert train_loss > 1.5 and 0 <= train_acc <= 1 and 0 <= test_acc <= 1  # 很差，但照样返回


def test_train_ch3_names_a_diverged_loss():
    data = tiny_data()
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    trainer = torch.optim.SGD(net.parameters(), lr=1e36)
    with pytest.raises(FloatingPointError, match='学习率'):
        d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(reduction='none'), 5, trainer)


def test_labels_outside_the_outputs_get_a_clear_error():
    data = tiny_data(classes=10)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 5))
    trainer = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match='只输出 5 个类别'):
        d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(reduction='none'), 1, trainer)


def test_evaluate_loss_uses_evaluation_mode_and_weights_mean_losses_by_size():
    torch.manual_seed(0)
    X, y = torch.randn(10, 3), torch.randn(10, 1)
    batches = [(X[:7], y[:7]), (X[7:], y[7:])]
    net = nn.Sequential(nn.Linear(3, 1), nn.Dropout(0.5))
    net.train()
    expected = ((net[0](X) - y) ** 2).mean().item()  # 评估模式下暂退层什么都不做
    mean_loss = d2l.evaluate_loss(net, batches, nn.MSELoss())
    none_loss = d2l.evaluate_loss(net, batches, nn.MSELoss(reduction='none'))
    assert not net.training
    assert math.isclose(mean_loss, expected, rel_tol=1e-5) and math.isclose(none_loss, expected, rel_tol=1e-5)


def test_book_style_code_runs_unchanged_in_a_plain_script():
    """第 2–4 章每一节按书中写法使用 d2l 的代码（tests/book_style.py），在全新的解释器里运行，
    不出错、不警告（-W error），也不打印 <Figure …>。"""
    env = {**os.environ, 'MPLBACKEND': 'Agg'}
    result = subprocess.run([sys.executable, '-W', 'error', str(ROOT / 'tests' / 'book_style.py')],
                            capture_output=True, text=True, timeout=600, env=env, cwd=ROOT / 'tests')
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == 'book-style code ran\n' and not result.stderr, result.stdout + result.stderr


def test_a_poor_learner_run_returns_its_metrics_in_a_kernel():
    cell = ('import torch\nfrom torch import nn\nimport d2l_helpers as d2l\n'
            'train_iter, test_iter = d2l.load_data_fashion_mnist(256)\n'
            'net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))\n'
            'loss = nn.CrossEntropyLoss(reduction="none")\n'
            'metrics = d2l.train_ch3(net, train_iter, test_iter, loss, 1, '
            'torch.optim.SGD(net.parameters(), lr=0.001))\n'
            'print(len(metrics), metrics[0] > 0.5)')
    notebook = run_in_kernel(cell)
    outputs = notebook.cells[0].outputs
    assert sorted(o.output_type for o in outputs) == ['display_data', 'stream'], outputs  # 一张图，一行结果
    assert [o.text for o in outputs if o.output_type == 'stream'] == ['3 True\n']
