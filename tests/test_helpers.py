"""d2l_helpers 对页面和读者的承诺：形状与类型、可复现、清楚的失败信息、脚本里也能用。"""
import collections
import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import d2l_helpers as d2l
from conftest import ROOT, run_in_kernel


@pytest.fixture(scope='module')
def fashion():
    return d2l.load_data_fashion_mnist(256)


def softmax_net():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def test_fashion_mnist_batches_have_the_documented_shapes_and_types(fashion):
    train_iter, test_iter = fashion
    X, y = next(iter(train_iter))
    assert X.shape == (256, 1, 28, 28) and X.dtype == torch.float32
    assert y.shape == (256,) and y.dtype == torch.int64
    assert 0 <= X.min() and X.max() <= 1
    assert len(train_iter) == 235 and len(test_iter) == 40
    assert sum(len(y) for _, y in train_iter) == 60000
    assert sum(len(y) for _, y in test_iter) == 10000


def test_training_set_is_reshuffled_each_epoch_and_test_set_is_in_order(fashion):
    train_iter, test_iter = fashion
    first, second = next(iter(train_iter))[1], next(iter(train_iter))[1]
    assert not torch.equal(first, second)
    labels = torch.cat([y for _, y in train_iter])
    assert torch.equal(labels.bincount(), torch.full((10,), 6000))  # 每个样本恰好一次
    assert torch.equal(torch.cat([y for _, y in test_iter]), torch.cat([y for _, y in test_iter]))


def test_files_are_read_once_per_process(fashion):
    again, _ = d2l.load_data_fashion_mnist(64)
    assert again.X.data_ptr() == fashion[0].X.data_ptr()


def test_resize_applies_to_the_whole_split_once():
    train_iter, test_iter = d2l.load_data_fashion_mnist(32, resize=64)
    X, y = next(iter(train_iter))
    assert X.shape == (32, 1, 64, 64) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert 0 <= X.min() and X.max() <= 1
    assert train_iter.X.shape == (60000, 1, 64, 64) and test_iter.X.shape == (10000, 1, 64, 64)


def test_bad_batch_size_is_reported():
    with pytest.raises(ValueError, match='batch_size'):
        d2l.load_data_fashion_mnist(0)


def test_accuracy_counts_correct_predictions():
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
    assert d2l.accuracy(y_hat, torch.tensor([0, 2])) == 1.0


def train_once(fashion, seed):
    torch.manual_seed(seed)
    net = softmax_net()
    updater = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = nn.CrossEntropyLoss(reduction='none')
    metrics = d2l.train_epoch_ch3(net, fashion[0], loss, updater)
    return metrics + (d2l.evaluate_accuracy(net, fashion[1]),)


def test_same_seed_gives_identical_numbers(fashion):
    assert train_once(fashion, 1) == train_once(fashion, 1)
    assert train_once(fashion, 1) != train_once(fashion, 2)


def test_training_emits_no_warning(fashion):
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        train_once(fashion, 0)


def test_custom_updater_path_trains_scratch_model(fashion):
    torch.manual_seed(0)
    W = torch.normal(0, 0.01, size=(784, 10), requires_grad=True)
    b = torch.zeros(10, requires_grad=True)

    def net(X):
        return X.reshape((-1, 784)) @ W + b

    def updater(batch_size):
        return d2l.sgd([W, b], 0.1, batch_size)

    loss = nn.CrossEntropyLoss(reduction='none')
    train_loss, train_acc = d2l.train_epoch_ch3(net, fashion[0], loss, updater)
    assert train_loss < 1.0 and train_acc > 0.6
    assert d2l.evaluate_accuracy(net, fashion[1]) > 0.7


def test_mean_reduced_loss_is_reported_per_example(fashion):
    torch.manual_seed(0)
    net = softmax_net()
    updater = torch.optim.SGD(net.parameters(), lr=0.0)
    loss_mean, _ = d2l.train_epoch_ch3(net, fashion[0], nn.CrossEntropyLoss(), updater)
    loss_none, _ = d2l.train_epoch_ch3(net, fashion[0], nn.CrossEntropyLoss(reduction='none'), updater)
    assert loss_mean == pytest.approx(loss_none, rel=1e-5)


def test_evaluation_turns_dropout_off(fashion):
    net = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(784, 10))
    net.train()
    assert d2l.evaluate_accuracy(net, fashion[1]) == d2l.evaluate_accuracy(net, fashion[1])
    assert not net.training


def test_dataloader_workers_suit_the_machine(monkeypatch):
    cpus = len(os.sched_getaffinity(0))
    assert 0 <= d2l.get_dataloader_workers() <= min(4, cpus)
    monkeypatch.setattr(d2l.os, 'name', 'nt')
    assert d2l.get_dataloader_workers() == 0


def run_script(script):
    """像读者那样用 `python -c` 运行一段脚本（非交互式的 Agg 后端，不在 Jupyter 中）。"""
    return subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                          cwd=ROOT / 'tests', env={**os.environ, 'MPLBACKEND': 'Agg'}, timeout=120)


def test_animator_in_a_plain_script_prints_nothing():
    script = ('import d2l_helpers as d2l\n'
              'a = d2l.Animator(xlabel="epoch", legend=["loss", "acc"])\n'
              'for i in range(3):\n'
              '    a.add(i + 1, (1.0 / (i + 1), 0.5 + 0.1 * i))\n'
              'assert len(a.axes[0].lines) == 2\n')
    result = run_script(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout == '' and result.stderr == ''


def test_synthetic_data_follows_the_linear_model():
    torch.manual_seed(0)
    w, b = torch.tensor([2, -3.4]), 4.2
    X, y = d2l.synthetic_data(w, b, 1000)
    assert X.shape == (1000, 2) and y.shape == (1000, 1)
    assert (y - (X @ w + b).reshape(-1, 1)).abs().max() < 0.1


def test_aliases_are_the_torch_functions():
    assert d2l.normal is torch.normal and d2l.matmul is torch.matmul  # 其余别名见 test_d2l_contract.py
    assert d2l.try_gpu().type in ('cpu', 'cuda')


def test_chinese_text_in_figures_has_no_missing_glyphs():
    script = ('import warnings\nwarnings.simplefilter("error")\n'
              'import d2l_helpers as d2l\n'
              'fig, ax = d2l.plt.subplots()\n'
              'ax.set_title("迭代周期与测试精度 −1")\n'
              'fig.savefig("/dev/null", format="svg")\n')
    result = run_script(script)
    assert result.returncode == 0 and result.stderr == '', result.stderr


def test_animator_in_jupyter_leaves_one_final_figure():
    """训练单元格的输出里只有一张图，而且是画完所有点之后的那张。"""
    cell = ('import d2l_helpers as d2l\n'
            'a = d2l.Animator(xlabel="epoch", fmts=("o",), redraw_every=0.5)\n'
            'for i in range(30):\n'
            '    a.add(i, i * i)\n')
    notebook = run_in_kernel(cell, timeout=120)
    outputs = notebook.cells[0].outputs
    assert [o.output_type for o in outputs] == ['display_data'], outputs
    svg = outputs[0].data['image/svg+xml']
    uses = collections.Counter(re.findall(r'xlink:href="#(m[0-9a-f]+)"', svg))
    assert max(uses.values()) == 30, f'最终的图应当画出全部 30 个点：{uses}'


@pytest.mark.parametrize('live, draws', [('1', 5), ('0', 1)])
def test_animator_redraws_live_only_when_someone_watches(monkeypatch, live, draws):
    """JupyterLab 里每次 add 都可以刷新；D2L_LIVE_PLOTS=0（构建、nbval）时只在单元格结束时画一次。"""
    monkeypatch.setenv('D2L_LIVE_PLOTS', live)
    cells = ['import time\nimport d2l_helpers as d2l\n'
             'draws = []\n'
             'draw = d2l.Animator._draw\n'
             'd2l.Animator._draw = lambda self: (draws.append(1), draw(self))\n'
             'a = d2l.Animator(redraw_every=0.01)\n'
             'for i in range(5):\n'
             '    a.add(i, i)\n'
             '    time.sleep(0.05)\n',
             'print(len(draws))']
    notebook = run_in_kernel(*cells, timeout=120)
    assert notebook.cells[1].outputs[0].text.strip() == str(draws)
    assert [o.output_type for o in notebook.cells[0].outputs] == ['display_data']


def test_glue_sends_the_same_message_as_myst_nb(monkeypatch):
    from IPython import display as ipython_display
    from myst_nb.ext import glue as myst_glue_module
    sent = []

    def record(*args, **kwargs):
        sent.append((args, kwargs))
    monkeypatch.setattr(ipython_display, 'display', record)
    monkeypatch.setattr(myst_glue_module, 'ipy_display', record)
    myst_glue = myst_glue_module.glue
    for value, shown in ((0.8336, False), ('文本', True), (torch.tensor([1.0, 2.0]), False)):
        sent.clear()
        myst_glue('name', value, display=shown)
        d2l.glue('name', value, display=shown)
        assert len(sent) == 2 and sent[0] == sent[1]


def test_glue_turns_numpy_and_tensor_scalars_into_numbers(monkeypatch):
    from IPython import display as ipython_display
    sent = []
    monkeypatch.setattr(ipython_display, 'display', lambda data, **kwargs: sent.append(data))
    d2l.glue('a', np.float64(0.8664), display=False)
    d2l.glue('b', torch.tensor(0.5), display=False)
    assert [d['application/papermill.record/text/plain'] for d in sent] == ['0.8664', '0.5']
