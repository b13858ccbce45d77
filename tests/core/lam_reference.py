"""A straightforward port of the official LAM code (X-Lowlevel-Vision/LAM_Demo), the reference
the fast :mod:`core.attribution` must match.

Ported from ``SaliencyModel/BackProp.py`` (``GaussianBlurPath``, ``Path_gradient``,
``saliency_map_PG``), ``SaliencyModel/attributes.py`` (``attr_grad``) and
``SaliencyModel/utils.py`` (``isotropic_gaussian_kernel``, ``grad_abs_norm``, ``gini``), with
the demo notebook's defaults (window 16, sigma 1.2, fold 50, l 9). As in the official code the
path is built with ``cv2.filter2D`` in numpy, the model runs in float32 one path step at a time
with a full backward pass (weights keep ``requires_grad``), and NaN gradients are set to 0.

The only addition is :func:`full_output`, which turns any model of the workbench into the
official ``model(x) -> SR`` call (arbitrary-scale models are queried on the whole output grid).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import Tensor, nn

from core.models.contracts import ArbitraryScaleSR, make_cell, make_coord


def isotropic_gaussian_kernel(l: int, sigma: float, epsilon: float = 1e-5) -> np.ndarray:
    ax = np.arange(-l // 2 + 1., l // 2 + 1.)
    xx, yy = np.meshgrid(ax, ax)
    kernel = np.exp(-(xx ** 2 + yy ** 2) / (2. * (sigma + epsilon) ** 2))
    return kernel / np.sum(kernel)


def gaussian_blur_path(sigma: float, fold: int, l: int = 5):
    def path_interpolation_func(cv_numpy_image: np.ndarray):
        h, w, c = cv_numpy_image.shape
        kernel_interpolation = np.zeros((fold + 1, l, l))
        image_interpolation = np.zeros((fold, h, w, c))
        lambda_derivative_interpolation = np.zeros((fold, h, w, c))
        sigma_interpolation = np.linspace(sigma, 0, fold + 1)
        for i in range(fold + 1):
            kernel_interpolation[i] = isotropic_gaussian_kernel(l, sigma_interpolation[i])
        for i in range(fold):
            image_interpolation[i] = cv2.filter2D(cv_numpy_image, -1, kernel_interpolation[i + 1]
                                                  ).reshape(h, w, c)
            lambda_derivative_interpolation[i] = cv2.filter2D(
                cv_numpy_image, -1,
                (kernel_interpolation[i + 1] - kernel_interpolation[i]) * fold).reshape(h, w, c)
        return (np.moveaxis(image_interpolation, 3, 1).astype(np.float32),
                np.moveaxis(lambda_derivative_interpolation, 3, 1).astype(np.float32))
    return path_interpolation_func


def attr_grad(tensor: Tensor, h: int, w: int, window: int = 8, reduce: str = "sum") -> Tensor:
    h_x = tensor.size()[2]
    w_x = tensor.size()[3]
    h_grad = torch.pow(tensor[:, :, :h_x - 1, :] - tensor[:, :, 1:, :], 2)
    w_grad = torch.pow(tensor[:, :, :, :w_x - 1] - tensor[:, :, :, 1:], 2)
    grad = torch.pow(h_grad[:, :, :, :-1] + w_grad[:, :, :-1, :], 1 / 2)
    crop = grad[:, :, h: h + window, w: w + window]
    return torch.sum(crop)


def path_gradient(numpy_image: np.ndarray, model, attr_objective, path_interpolation_func):
    cv_numpy_image = np.moveaxis(numpy_image, 0, 2)
    image_interpolation, lambda_derivative_interpolation = path_interpolation_func(cv_numpy_image)
    grad_accumulate_list = np.zeros_like(image_interpolation)
    result_list = []
    for i in range(image_interpolation.shape[0]):
        img_tensor = torch.from_numpy(image_interpolation[i])
        img_tensor.requires_grad_(True)
        result = model(img_tensor.unsqueeze(0))
        target = attr_objective(result)
        target.backward()
        grad = img_tensor.grad.numpy()
        if np.any(np.isnan(grad)):
            grad[np.isnan(grad)] = 0.0
        grad_accumulate_list[i] = grad * lambda_derivative_interpolation[i]
        result_list.append(result.detach().numpy())
    return grad_accumulate_list, np.asarray(result_list), image_interpolation


def grad_abs_norm(grad: np.ndarray) -> np.ndarray:
    grad_2d = np.abs(grad.sum(axis=0))
    return grad_2d / grad_2d.max()


def gini(array: np.ndarray) -> float:
    array = array.flatten().astype(np.float64)
    if np.amin(array) < 0:
        array -= np.amin(array)
    array += 0.0000001
    array = np.sort(array)
    index = np.arange(1, array.shape[0] + 1)
    n = array.shape[0]
    return float((np.sum((2 * index - n - 1) * array)) / (n * np.sum(array)))


def full_output(model: nn.Module, out_hw: tuple[int, int]):
    """``x -> SR`` for any workbench model: ``model(x)``, interpolation, LIIF on the full grid."""
    if isinstance(model, ArbitraryScaleSR):
        def run(x: Tensor) -> Tensor:
            coord = make_coord(out_hw)[None].expand(x.shape[0], -1, -1)
            cell = make_cell(coord, out_hw)
            pred = model.query(model.encode(x), coord, cell)
            return pred.transpose(1, 2).reshape(x.shape[0], -1, *out_hw)
        return run
    if hasattr(model, "resize"):
        return lambda x: model.resize(x, out_hw)
    return model


def reference_lam(model: nn.Module, lr: np.ndarray, x: int, y: int, window: int = 16,
                  out_hw: tuple[int, int] | None = None, sigma: float = 1.2, fold: int = 50,
                  l: int = 9) -> dict:
    """Official LAM of ``lr`` (``H x W x 3`` float32 in [0, 1]) for the window at HR ``(x, y)``.

    Returns ``{'grad': (3, h, w) attribution, 'map': normalised |sum over channels|,
    'gini', 'di', 'sr'}``.
    """
    numpy_image = np.ascontiguousarray(np.moveaxis(lr.astype(np.float32), 2, 0))
    if out_hw is None:
        s = int(getattr(model, "scale", 4))
        out_hw = (lr.shape[0] * s, lr.shape[1] * s)
    net = full_output(model.float().eval(), out_hw)

    def objective(result: Tensor) -> Tensor:
        return attr_grad(result, y, x, window=window)

    grads, results, _ = path_gradient(numpy_image, net, objective,
                                      gaussian_blur_path(sigma, fold, l))
    final_grad = grads.mean(axis=0)
    m = grad_abs_norm(final_grad)
    g = gini(m)
    return {"grad": final_grad, "map": m, "gini": g, "di": (1 - g) * 100, "sr": results[-1][0]}


#: The LAM demo notebook's window for its image 7 (HR pixels, top-left); the other demo images
#: (../shared/datasets/lam_images: "window 16 at the centre region of interest") and Set14
#: use the centre (:func:`demo_window`).
DEMO_WINDOWS = {"7.png": (110, 150)}


def demo_window(name: str, hr_hw: tuple[int, int], size: int = 16) -> tuple[int, int]:
    """Top-left ``(x, y)`` of the 16 px LAM window for a demo or benchmark image."""
    if name in DEMO_WINDOWS:
        return DEMO_WINDOWS[name]
    return (hr_hw[1] - size) // 2, (hr_hw[0] - size) // 2
