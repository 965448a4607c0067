"""按《动手学深度学习》第 2–4 章的写法调用 d2l 的每个名字（只是把导入换成了 d2l_helpers）。
测试在一个全新的解释器里运行本文件；每一节用一小段代码，训练都只跑 1 个周期。"""
import math

import torch
from torch import nn

import d2l_helpers as d2l

# 2.1–2.3 张量与线性代数：框架别名
x = d2l.arange(12, dtype=d2l.float32)
X = d2l.reshape(x, (3, 4))
A = d2l.concat((X, d2l.ones((3, 4))), 0)
B = d2l.stack([X, d2l.zeros(3, 4)])
assert A.shape == (6, 4) and B.shape == (2, 3, 4) and d2l.size(X) == 12
assert float(d2l.reduce_sum(X)) == 66 and d2l.reduce_sum(X, axis=0).shape == (4,)
assert d2l.reduce_mean(X, axis=1).shape == (3,) and d2l.argmax(X, axis=1).tolist() == [3, 3, 3]
assert d2l.transpose(X).shape == (4, 3) and d2l.astype(X, d2l.int32).dtype == torch.int32
assert d2l.matmul(X, d2l.transpose(X)).shape == (3, 3) and d2l.eye(3).trace() == 3
assert d2l.numpy(d2l.tensor([1.0, 2.0])).sum() == 3 and d2l.abs(d2l.tensor([-2])).item() == 2
gx, gy = d2l.meshgrid(d2l.linspace(-1, 1, 5), d2l.linspace(-1, 1, 3))
assert gx.shape == (5, 3) and float(d2l.sin(d2l.tensor(0.0))) == 0
assert float(d2l.cos(d2l.tensor(0.0))) == 1 == float(d2l.cosh(d2l.tensor(0.0))) == float(d2l.exp(d2l.zeros(1)))
assert math.isclose(float(d2l.log(d2l.exp(d2l.ones(1)))), 1, rel_tol=1e-6)
assert float(d2l.tanh(d2l.sinh(d2l.zeros(1)))) == 0
assert d2l.to(X, torch.float64).dtype == torch.float64 and d2l.rand(2, 2).shape == (2, 2)

# 2.4 微积分：画函数及其切线
t = d2l.arange(0, 3, 0.1)
d2l.use_svg_display()
d2l.set_figsize()
d2l.plot(t, [t ** 3 - 1 / (t + 1), 4 * t - 4], 'x', 'f(x)', legend=['f(x)', 'Tangent line (x=1)'])
fig, axes = d2l.plt.subplots()
d2l.set_axes(axes, 'x', 'y', [0, 3], [0, 5], 'linear', 'linear', ['a'])

# 2.6 概率：频率随试验次数收敛
counts = torch.distributions.multinomial.Multinomial(10, torch.ones(6) / 6).sample((50,))
estimates = counts.cumsum(dim=0) / counts.cumsum(dim=0).sum(dim=1, keepdims=True)
d2l.set_figsize((6, 4.5))
for i in range(6):
    d2l.plt.plot(estimates[:, i].numpy(), label=f'P(die={i + 1})')

# 3.1 线性回归：计时与正态分布
timer = d2l.Timer()
c = d2l.zeros(1000)
for i in range(1000):
    c[i] = 1.0
timer.stop()
timer.start()
c = d2l.ones(1000) + d2l.ones(1000)
assert len(timer.times) == 1 and timer.stop() >= 0 and timer.sum() >= 0 and len(timer.cumsum()) == 2
d2l.plot(d2l.numpy(t), [d2l.numpy(d2l.normal(0, 1, t.shape))], xlabel='x', ylabel='p(x)')

# 3.2 从零实现线性回归
true_w, true_b = d2l.tensor([2, -3.4]), 4.2
features, labels = d2l.synthetic_data(true_w, true_b, 1000)
w = d2l.normal(0, 0.01, size=(2, 1), requires_grad=True)
b = d2l.zeros(1, requires_grad=True)
for epoch in range(3):
    for Xb, yb in d2l.load_array((features, labels), 10):
        l = d2l.squared_loss(d2l.linreg(Xb, w, b), yb)
        l.sum().backward()
        d2l.sgd([w, b], 0.03, 10)
assert (true_w - w.reshape(true_w.shape)).abs().max() < 0.05

# 3.3 简洁实现
data_iter = d2l.load_array((features, labels), 10)
net = nn.Sequential(nn.Linear(2, 1))
trainer = torch.optim.SGD(net.parameters(), lr=0.03)
for Xb, yb in data_iter:
    trainer.zero_grad()
    nn.MSELoss()(net(Xb), yb).backward()
    trainer.step()

# 3.5 图像分类数据集
train_iter, test_iter = d2l.load_data_fashion_mnist(256)
Xb, yb = next(iter(train_iter))
d2l.show_images(Xb[:6].reshape(6, 28, 28), 1, 6, titles=d2l.get_fashion_mnist_labels(yb[:6]))
assert d2l.get_dataloader_workers() >= 0
resized, _ = d2l.load_data_fashion_mnist(32, resize=64)
assert next(iter(resized))[0].shape == (32, 1, 64, 64)

# 3.6 从零实现 softmax 回归
W = d2l.normal(0, 0.01, size=(784, 10), requires_grad=True)
b = d2l.zeros(10, requires_grad=True)


def softmax(O):
    E = d2l.exp(O)
    return E / E.sum(1, keepdim=True)


def net(Xb):
    return softmax(d2l.matmul(Xb.reshape((-1, W.shape[0])), W) + b)


def cross_entropy(y_hat, y):
    return -d2l.log(y_hat[range(len(y_hat)), y])


metric = d2l.Accumulator(2)
metric.add(1, 2)
metric.reset()
assert metric[0] == 0 and d2l.evaluate_accuracy(net, test_iter) < 0.3
d2l.train_ch3(net, train_iter, test_iter, cross_entropy, 1, lambda n: d2l.sgd([W, b], 0.1, n))
d2l.predict_ch3(net, test_iter)

# 3.7、4.3、4.6 简洁实现（带暂退法）
net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))
loss = nn.CrossEntropyLoss(reduction='none')
trainer = torch.optim.SGD(net.parameters(), lr=0.1)
d2l.train_ch3(net, train_iter, test_iter, loss, 1, trainer)
assert d2l.accuracy(net(Xb), yb) >= 0

# 学习者的实验：学习率很小、只训练一个周期。结果很差，但照样画完并返回指标
net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
metrics = d2l.train_ch3(net, train_iter, test_iter, loss, 1, torch.optim.SGD(net.parameters(), lr=0.001))
assert len(metrics) == 3 and metrics[0] > 0.5 and all(0 <= acc <= 1 for acc in metrics[1:]), metrics

# 4.4 多项式回归：手动画训练和测试损失
animator = d2l.Animator(xlabel='epoch', ylabel='loss', yscale='log', xlim=[1, 3], ylim=[1e-3, 1e2],
                        legend=['train', 'test'])
net = nn.Sequential(nn.Linear(2, 1, bias=False))
trainer = torch.optim.SGD(net.parameters(), lr=0.01)
small_iter = d2l.load_array((features[:100], labels[:100]), 10)
for epoch in range(3):
    d2l.train_epoch_ch3(net, small_iter, nn.MSELoss(reduction='none'), trainer)
    animator.add(epoch + 1, (d2l.evaluate_loss(net, small_iter, nn.MSELoss(reduction='none')),
                             d2l.evaluate_loss(net, data_iter, nn.MSELoss(reduction='none'))))
assert math.isfinite(animator.Y[0][-1])

# 4.8 数值稳定性：sigmoid 的梯度
x = d2l.arange(-8.0, 8.0, 0.1, requires_grad=True)
y = torch.sigmoid(x)
y.backward(torch.ones_like(x))
d2l.plot(x.detach().numpy(), [y.detach().numpy(), x.grad.numpy()], legend=['sigmoid', 'gradient'])
assert d2l.try_gpu().type in ('cpu', 'cuda')
print('book-style code ran')
