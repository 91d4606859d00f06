#pragma once
/// \file
/// frugal/embedding: embedding tables whose per-row dimension shrinks and grows during training
/// (FIITED), stored in a virtually-hashed, physically-indexed chunk pool that really returns
/// memory; the dense baselines; DLRM; synthetic and Criteo click data.

#include "embedding/adaptive_table.hpp"
#include "embedding/admission.hpp"
#include "embedding/bags.hpp"
#include "embedding/budget.hpp"
#include "embedding/click_data.hpp"
#include "embedding/criteo.hpp"
#include "embedding/dense_table.hpp"
#include "embedding/dlrm.hpp"
#include "embedding/importance.hpp"
#include "embedding/metrics.hpp"
#include "embedding/synthetic.hpp"
