"""The kit's networks in PyTorch, with the kit's module names (they are the safetensors tensor
names). Shared by gen_golden.py and torch_bench.py, so the golden logits and the timings are of the
same models. Module creation order sets the order of seeded initialization: keep it.
"""
import torch
import torch.nn as nn


class ANN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 512)
        self.bn1 = nn.BatchNorm1d(512)
        self.fc2 = nn.Linear(512, 256)
        self.bn2 = nn.BatchNorm1d(256)
        self.fc3 = nn.Linear(256, 128)
        self.bn3 = nn.BatchNorm1d(128)
        self.fc4 = nn.Linear(128, 10)
        self.drop = nn.Dropout(0.3)

    def forward(self, x):
        x = x.flatten(1)
        x = self.drop(torch.relu(self.bn1(self.fc1(x))))
        x = self.drop(torch.relu(self.bn2(self.fc2(x))))
        x = self.drop(torch.relu(self.bn3(self.fc3(x))))
        return self.fc4(x)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(64)
        self.conv3 = nn.Conv2d(64, 128, 3, padding=1)
        self.bn3 = nn.BatchNorm2d(128)
        self.fc1 = nn.Linear(1152, 256)
        self.fc2 = nn.Linear(256, 10)
        self.drop1 = nn.Dropout(0.25)
        self.drop2 = nn.Dropout(0.3)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = torch.max_pool2d(torch.relu(self.bn2(self.conv2(x))), 2)
        x = torch.max_pool2d(torch.relu(self.bn3(self.conv3(x))), 2)
        x = self.drop1(x).flatten(1)
        x = self.drop2(torch.relu(self.fc1(x)))
        return self.fc2(x)


class Block(nn.Module):
    """conv → BN → ReLU → conv → BN, plus the shortcut (identity, or 1×1 conv + BN), then ReLU;
    convolutions keep their bias, as the kit's do."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x if self.downsample is None else self.downsample(x)
        return torch.relu(y + s)


class Stem(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 32, 3, padding=1)
        self.bn = nn.BatchNorm2d(32)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class ResNet(nn.Module):
    """`--model resnet`: stem 1→32 (28×28), pool, layer1 32→64 (projection), 64→64, pool,
    layer2 64→128 (projection) at 7×7, Dropout 0.25, global average pool, Dropout 0.3, fc 128→10.
    364,234 parameters."""

    def __init__(self):
        super().__init__()
        self.stem = Stem()
        self.layer1 = nn.Sequential(Block(32, 64), Block(64, 64))
        self.layer2 = nn.Sequential(Block(64, 128))
        self.fc = nn.Linear(128, 10)
        self.drop1 = nn.Dropout(0.25)
        self.drop2 = nn.Dropout(0.3)

    def forward(self, x):
        x = torch.max_pool2d(self.stem(x), 2)
        x = torch.max_pool2d(self.layer1(x), 2)
        x = self.drop1(self.layer2(x))
        x = self.drop2(x.mean((2, 3)))
        return self.fc(x)


# MODELS maps the kit's architecture names to these modules.
MODELS = {"ann": ANN, "cnn": CNN, "resnet": ResNet}
