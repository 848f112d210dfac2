// bertcpp/bertcpp.hpp - everything public in one include.
#pragma once

#include "bertcpp/compute.hpp"
#include "bertcpp/error.hpp"
#include "bertcpp/model.hpp"
#include "bertcpp/pipelines.hpp"
#include "bertcpp/tensor.hpp"
#include "bertcpp/tokenizer.hpp"
