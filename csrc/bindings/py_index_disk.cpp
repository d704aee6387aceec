// HnswIndex (bindings/py_hnsw.h): vectors read from disk to re-rank, or built into a file mapping;
// the re-rank and read counters.
#include "bindings/py_hnsw.h"

namespace vecsearch {

// Vectors on disk: re-rank by reading rows [0, rows) of dim floats at `offset` of `path`.
void PyHnsw::attach_reader(const std::string& path, uint64_t offset, size_t rows, bool use_uring) {
    auto reader = std::make_shared<const VectorReader>(path, offset, rows, h_->params().dim, use_uring);
    py::gil_scoped_release release;
    h_->attach_reader(std::move(reader));
}

void PyHnsw::detach_reader() {
    py::gil_scoped_release release;
    h_->attach_reader(nullptr);
}

// Build into a writable float32 [rows, dim] buffer (a file mapping) that this object keeps
// alive until the next call; copy: move the current rows into it first.
void PyHnsw::use_external_vectors(py::array buffer, bool copy) {
    size_t dim = h_->params().dim;
    if (!buffer.writeable() || buffer.ndim() != 2 || size_t(buffer.shape(1)) != dim ||
        !buffer.dtype().is(py::dtype::of<float>()) || !(buffer.flags() & py::array::c_style))
        throw InvalidArgument("external vectors must be a writable C-contiguous float32 [rows, dim] array");
    float* data = static_cast<float*>(buffer.mutable_data());
    size_t rows = size_t(buffer.shape(0));
    {
        py::gil_scoped_release release;
        h_->use_external_vectors(data, rows, copy);
    }
    external_ = buffer;
}

// Re-rank and disk counters since load or the last reset.
py::dict PyHnsw::io_stats() const {
    Hnsw::RerankCounters r = h_->rerank_counters();
    py::dict d;
    d["queries"] = r.queries;
    d["rows_reranked"] = r.rows;
    const VectorReader* reader = h_->reader();
    if (reader) {
        VectorReader::Counters c = reader->counters();
        d["rows_read"] = c.rows;
        d["bytes_read"] = c.bytes;
        d["read_calls"] = c.calls;
        d["read_mode"] = reader->uses_uring() ? "io_uring" : "pread";
        if (!reader->uses_uring()) d["rows_missed_cache"] = c.misses;
    }
    return d;
}

void PyHnsw::reset_io_stats() {
    h_->reset_rerank_counters();
    if (h_->reader()) h_->reader()->reset_counters();
}

}  // namespace vecsearch
