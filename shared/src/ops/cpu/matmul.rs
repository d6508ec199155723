//! Matrix products on the `gemm` crate (the GEMM under burn's own CPU backend), behind a
//! bounds-checked view so the kernels stay in safe code.

use gemm::Parallelism;

/// A read-only `rows × cols` matrix: element `(i, j)` is `data[i·row_stride + j·col_stride]`.
#[derive(Debug, Clone, Copy)]
pub struct Matrix<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> Matrix<'a> {
    /// `data` as a row-major `rows × cols` matrix.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self::new(data, rows, cols, cols, 1)
    }

    /// The transpose of the row-major `cols × rows` matrix `data`, read in place.
    pub fn transposed(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self::new(data, rows, cols, 1, rows)
    }

    /// `rows × cols` values of a row-major matrix whose rows are `row_stride` apart,
    /// starting at `data[0]`: a block of columns of a wider matrix.
    pub fn columns(data: &'a [f32], rows: usize, cols: usize, row_stride: usize) -> Self {
        Self::new(data, rows, cols, row_stride, 1)
    }

    fn new(
        data: &'a [f32],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Self {
        if rows > 0 && cols > 0 {
            let last = (rows - 1) * row_stride + (cols - 1) * col_stride;
            assert!(
                last < data.len(),
                "a {rows}×{cols} matrix does not fit in {} values",
                data.len()
            );
        }
        Self {
            data,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }
}

/// Writes the transpose of `matrix` into `into`, row-major (`matrix.cols × matrix.rows`).
pub fn transpose(matrix: Matrix, into: &mut [f32]) {
    assert_eq!(into.len(), matrix.rows * matrix.cols, "transpose size");
    for (j, row) in into.chunks_exact_mut(matrix.rows.max(1)).enumerate() {
        for (i, value) in row.iter_mut().enumerate() {
            *value = matrix.data[i * matrix.row_stride + j * matrix.col_stride];
        }
    }
}

/// How many threads one product may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    One,
    /// Every thread of the pool: for a product that is the only work in flight.
    All,
}

/// `dst = lhs · rhs`, or `dst += lhs · rhs` when `accumulate`; `dst` is row-major, its
/// rows `dst_row_stride` apart (`rhs.cols` for a dense matrix).
pub fn matmul(
    dst: &mut [f32],
    dst_row_stride: usize,
    accumulate: bool,
    lhs: Matrix,
    rhs: Matrix,
    threads: Threads,
) {
    let (rows, cols) = (lhs.rows, rhs.cols);
    assert_eq!(lhs.cols, rhs.rows, "inner dimensions differ");
    if rows == 0 || cols == 0 {
        return;
    }
    assert!(dst_row_stride >= cols, "destination rows overlap");
    assert!(
        (rows - 1) * dst_row_stride + cols <= dst.len(),
        "a {rows}×{cols} destination does not fit in {} values",
        dst.len()
    );
    if lhs.cols == 0 {
        if !accumulate {
            for row in dst.chunks_mut(dst_row_stride).take(rows) {
                row[..cols].fill(0.0);
            }
        }
        return;
    }
    // SAFETY: the views were checked to lie inside their slices, and the destination's
    // rows inside `dst` without overlapping; `dst` is borrowed mutably, so it aliases
    // neither input.
    unsafe {
        gemm::gemm(
            rows,
            cols,
            lhs.cols,
            dst.as_mut_ptr(),
            1,
            dst_row_stride as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism(threads),
        );
    }
}

fn parallelism(threads: Threads) -> Parallelism {
    match threads {
        Threads::One => Parallelism::None,
        #[cfg(feature = "flex")]
        Threads::All => match rayon::current_num_threads() {
            0 | 1 => Parallelism::None,
            n => Parallelism::Rayon(n),
        },
        #[cfg(not(feature = "flex"))]
        Threads::All => Parallelism::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(lhs: Matrix, rhs: Matrix) -> Vec<f32> {
        let mut out = vec![0.0; lhs.rows * rhs.cols];
        for i in 0..lhs.rows {
            for j in 0..rhs.cols {
                for k in 0..lhs.cols {
                    out[i * rhs.cols + j] += lhs.data[i * lhs.row_stride + k * lhs.col_stride]
                        * rhs.data[k * rhs.row_stride + j * rhs.col_stride];
                }
            }
        }
        out
    }

    #[test]
    fn products_of_plain_and_transposed_views_match_a_triple_loop() {
        let a: Vec<f32> = (0..35).map(|i| (i % 7) as f32 - 2.5).collect();
        let b: Vec<f32> = (0..30).map(|i| (i % 5) as f32 * 0.5 - 1.0).collect();
        for threads in [Threads::One, Threads::All] {
            // b's first 21 values read as the transpose of a row-major 3×7 matrix.
            let lhs = Matrix::row_major(&a, 5, 7);
            let rhs = Matrix::transposed(&b[..21], 7, 3);
            let mut dst = vec![f32::NAN; 15];
            matmul(&mut dst, 3, false, lhs, rhs, threads);
            assert_eq!(dst, naive(lhs, rhs));
            let before = dst.clone();
            matmul(&mut dst, 3, true, lhs, rhs, threads);
            let twice: Vec<f32> = before.iter().map(|v| 2.0 * v).collect();
            assert_eq!(dst, twice);
            // Into the middle column of a 5×3 matrix, from the first two columns of `b`
            // read as a 7×3 row-major matrix.
            let mut wide = [-1.0; 15];
            let rhs = Matrix::columns(&b, 7, 1, 3);
            matmul(&mut wide[1..], 3, false, lhs, rhs, threads);
            let column = naive(lhs, rhs);
            for (row, value) in wide.chunks(3).zip(column) {
                assert_eq!(row, [-1.0, value, -1.0]);
            }
        }
    }

    #[test]
    #[should_panic(expected = "does not fit")]
    fn a_view_larger_than_its_data_is_refused() {
        let _ = Matrix::row_major(&[0.0; 5], 2, 3);
    }
}
