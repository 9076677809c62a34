"""The two networks of the paper's experiments, at configurable size: an LSTM language model and ResNet-20.
Losses take (model, batch), the convention of SmoothnessProbe."""
import torch
from torch import nn
from torch.nn import functional as F


class LSTMLanguageModel(nn.Module):
    """Word-level LSTM language model in the AWD-LSTM layout (Merity, Keskar, Socher 2018): `num_layers` LSTM
    layers of `hidden_size` units, the last one of `embedding_size` units so that the output layer's weight is the
    embedding (tied, Press & Wolf 2017), with dropout on the input embeddings, between layers and on the output.

    Not AWD-LSTM's weight drop, embedding (word) dropout, variational masks, activation regularisation or NT-ASGD:
    they change the training trajectory, but in eval mode, where the probe measures this model, they are all off.
    Input: token ids (batch, time); output: logits (batch, time, vocab).  Every batch starts from a zero state, so
    the loss of a batch is a fixed function of the parameters (and of the dropout masks in training mode).
    """

    def __init__(self, vocab_size, hidden_size=128, num_layers=2, embedding_size=None, dropout_input=0.0,
                 dropout_hidden=0.0, dropout_output=0.0):
        super().__init__()
        embedding_size = hidden_size if embedding_size is None else embedding_size
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        self.embedding = nn.Embedding(vocab_size, embedding_size)
        sizes = [embedding_size] + [hidden_size] * (num_layers - 1) + [embedding_size]
        self.layers = nn.ModuleList(nn.LSTM(a, b, batch_first=True) for a, b in zip(sizes, sizes[1:]))
        self.drop_input, self.drop_hidden, self.drop_output = (nn.Dropout(p) for p in (dropout_input,
                                                                                     dropout_hidden, dropout_output))
        self.decoder = nn.Linear(embedding_size, vocab_size)
        self.decoder.weight = self.embedding.weight  # tied
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)

    def forward(self, tokens):
        hidden = self.drop_input(self.embedding(tokens))
        for i, layer in enumerate(self.layers):
            hidden, _ = layer(hidden)
            hidden = self.drop_hidden(hidden) if i < len(self.layers) - 1 else self.drop_output(hidden)
        return self.decoder(hidden)


def language_model_loss(model, batch):
    """Mean cross-entropy per token of `model` on batch = (inputs, targets); exp of it is the perplexity."""
    inputs, targets = batch
    return F.cross_entropy(model(inputs).flatten(0, 1), targets.flatten())


class _BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes - in_planes  # option A shortcut of He et al. 2016 (CIFAR): subsample, pad channels

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x
        if self.pad:
            shortcut = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return F.relu(out + shortcut)


class ResNet20(nn.Module):
    """ResNet-20 in the CIFAR layout (He et al. 2016, §4.2): 3 stages of 3 basic blocks, 16/32/64 channels.

    Works for any input image size (global average pooling at the end).
    """

    def __init__(self, num_classes=10, in_channels=3, blocks_per_stage=3):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        layers, in_planes = [], 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(blocks_per_stage):
                layers.append(_BasicBlock(in_planes, planes, stride if i == 0 else 1))
                in_planes = planes
        self.blocks = nn.Sequential(*layers)
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    def forward(self, images):
        out = self.blocks(F.relu(self.bn(self.conv(images))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))


def classification_loss(model, batch):
    """Mean cross-entropy per image of `model` on batch = (images, labels)."""
    images, labels = batch
    return F.cross_entropy(model(images), labels)
