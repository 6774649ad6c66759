// Every layer of matnn::nn in one include.
#pragma once

#include "nn/activation.hpp"
#include "nn/conv.hpp"
#include "nn/dropout.hpp"
#include "nn/linear.hpp"
#include "nn/mlp.hpp"
#include "nn/module.hpp"
#include "nn/norm.hpp"
#include "nn/sequential.hpp"
