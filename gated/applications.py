"""``keras.applications`` (pretrained ImageNet networks) is not part of gated.

Every name raises an ImportError that says what to use instead: any ``torch.nn.Module`` is a layer in gated's
Sequential and functional models, so a pretrained torchvision network can feed a GRU.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise ImportError(
        f"gated.applications.{name}: gated has no pretrained ImageNet networks (keras.applications). Use a "
        "torchvision model as a layer instead, e.g. `features = torchvision.models.resnet18(weights='DEFAULT')` "
        "inside a Sequential or functional model (wrap it in TimeDistributed to run it per frame before a GRU)."
    )
