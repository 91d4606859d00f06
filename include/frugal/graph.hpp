#pragma once
/// \file
/// frugal::graph — CSR graphs in Kokkos Views, normalisation, SpMM aggregation, GCN and
/// GraphSAGE layers on the nn substrate, node-classification losses, a stochastic-block-model
/// dataset generator, partitions (METIS, Cuthill–McKee runs, id blocks), node renumbering, and
/// GNNPipe's chunk and graph parallelism's halo bookkeeping: the substrate of pipelined
/// full-graph GNN training.

#include "graph/aggregation.hpp"
#include "graph/chunks.hpp"
#include "graph/csr_graph.hpp"
#include "graph/gcn.hpp"
#include "graph/halo.hpp"
#include "graph/node_dataset.hpp"
#include "graph/node_loss.hpp"
#include "graph/partition.hpp"  // partition_metis is in graph/metis.hpp, not included here
#include "graph/permutation.hpp"
#include "graph/sage.hpp"
#include "graph/sbm.hpp"
#include "graph/spmm.hpp"
