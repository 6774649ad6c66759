// Optimisers and the tools used around them, in one include.
#pragma once

#include "nn/adam.hpp"
#include "nn/clip.hpp"
#include "nn/ema.hpp"
#include "nn/optimizer.hpp"
#include "nn/sgd.hpp"
