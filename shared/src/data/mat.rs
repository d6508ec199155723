//! MATLAB Level 5 MAT-files (the format of `save -v7`, which SVHN uses): a 128-byte
//! header, then tagged data elements. Each variable is an `miMATRIX` element (array
//! flags, dimensions, name, real part, optional imaginary part), usually wrapped in a
//! zlib-compressed `miCOMPRESSED` element. Numeric arrays are decoded; cells, structs,
//! objects and sparse arrays are listed without values, which is all Astute needs.
//!
//! Every size read from the file is checked against the bytes present before it is
//! used, so corrupt files give errors, not panics or huge allocations.

use super::DataError;
use astute_formats::inflate;

// Data types of elements (MAT-file format, Table 1-1).
const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT16: u32 = 3;
const MI_UINT16: u32 = 4;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_SINGLE: u32 = 7;
const MI_DOUBLE: u32 = 9;
const MI_INT64: u32 = 12;
const MI_UINT64: u32 = 13;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;
const MI_UTF8: u32 = 16;
const MI_UTF16: u32 = 17;
const MI_UTF32: u32 = 18;

/// Bytes before the first data element.
const HEADER_LEN: usize = 128;
/// Bit of the array-flags word that marks complex arrays.
const COMPLEX_FLAG: u32 = 0x0800;
/// A compressed element holds one element, whose size is a `u32`: it cannot
/// decompress to more than this.
const MAX_DECOMPRESSED: u64 = u32::MAX as u64 + 8;

/// The variables of a MAT-file, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct MatFile {
    /// The header's descriptive text, e.g. "MATLAB 5.0 MAT-file, Platform: ...".
    pub description: String,
    pub variables: Vec<MatVariable>,
}

impl MatFile {
    pub fn get(&self, name: &str) -> Option<&MatVariable> {
        self.variables.iter().find(|v| v.name == name)
    }

    /// Removes and returns variable `name`, so large arrays move out without a copy.
    pub fn take(&mut self, name: &str) -> Option<MatVariable> {
        let i = self.variables.iter().position(|v| v.name == name)?;
        Some(self.variables.remove(i))
    }
}

/// One array. `values` holds the real part in MATLAB's column-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct MatVariable {
    pub name: String,
    pub class: MatClass,
    pub dims: Vec<usize>,
    pub complex: bool,
    /// `None` for classes whose contents Astute does not decode (cell, struct, object,
    /// sparse and unknown classes).
    pub values: Option<MatValues>,
}

/// MATLAB array classes (`mxDOUBLE_CLASS`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatClass {
    Cell,
    Struct,
    Object,
    Char,
    Sparse,
    Double,
    Single,
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    /// Function handles, opaque objects and codes this reader does not know.
    Other(u8),
}

impl MatClass {
    fn from_code(code: u8) -> Self {
        match code {
            1 => Self::Cell,
            2 => Self::Struct,
            3 => Self::Object,
            4 => Self::Char,
            5 => Self::Sparse,
            6 => Self::Double,
            7 => Self::Single,
            8 => Self::Int8,
            9 => Self::UInt8,
            10 => Self::Int16,
            11 => Self::UInt16,
            12 => Self::Int32,
            13 => Self::UInt32,
            14 => Self::Int64,
            15 => Self::UInt64,
            other => Self::Other(other),
        }
    }

    /// Classes stored as a plain real (and optional imaginary) part.
    fn has_plain_values(self) -> bool {
        !matches!(
            self,
            Self::Cell | Self::Struct | Self::Object | Self::Sparse | Self::Other(_)
        )
    }
}

/// Decoded values. MATLAB may store an array in a narrower type than its class (a
/// `double` array of small integers as `miUINT8`); bytes stay bytes, every other
/// storage type widens to `f64` (exact for everything but 64-bit integers above 2⁵³).
#[derive(Debug, Clone, PartialEq)]
pub enum MatValues {
    U8(Vec<u8>),
    F64(Vec<f64>),
}

impl MatValues {
    pub fn len(&self) -> usize {
        match self {
            Self::U8(v) => v.len(),
            Self::F64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            Self::U8(v) => v.iter().map(|&b| f64::from(b)).collect(),
            Self::F64(v) => v.clone(),
        }
    }

    /// The values as bytes; each must be a whole number from 0 to 255.
    pub fn into_bytes(self) -> Result<Vec<u8>, DataError> {
        match self {
            Self::U8(v) => Ok(v),
            Self::F64(v) => v
                .iter()
                .enumerate()
                .map(|(i, &x)| {
                    if x.fract() == 0.0 && (0.0..=255.0).contains(&x) {
                        Ok(x as u8)
                    } else {
                        Err(DataError::Invalid(format!(
                            "value {x} at index {i} is not a byte (0 to 255)"
                        )))
                    }
                })
                .collect(),
        }
    }
}

/// Parses a Level 5 MAT-file.
pub fn parse(bytes: &[u8]) -> Result<MatFile, DataError> {
    let Some(header) = bytes.get(..HEADER_LEN) else {
        return Err(invalid(format!(
            "{} bytes is too short for a MAT-file header ({HEADER_LEN} bytes)",
            bytes.len()
        )));
    };
    let endian = match &header[126..128] {
        b"IM" => Endian::Little,
        b"MI" => Endian::Big,
        _ => {
            return Err(invalid(
                "not a MATLAB 5 MAT-file: no endian indicator ('IM' or 'MI') at byte 126",
            ));
        }
    };
    let description = String::from_utf8_lossy(&header[..116])
        .trim_end_matches([' ', '\0'])
        .to_owned();
    match endian.u16([header[124], header[125]]) {
        0x0100 => {}
        0x0200 => {
            return Err(invalid(
                "a MATLAB 7.3 (HDF5) MAT-file, which Astute does not read: re-save it with save(..., '-v7')",
            ));
        }
        v => return Err(invalid(format!("unknown MAT-file version 0x{v:04x}"))),
    }
    let mut variables = Vec::new();
    elements(bytes, HEADER_LEN, endian, true, &mut variables)?;
    Ok(MatFile {
        description,
        variables,
    })
}

/// Reads the top-level elements from `pos` on, collecting variables. Compressed
/// elements are inflated and read in turn (one level deep, as MATLAB writes them).
fn elements(
    bytes: &[u8],
    mut pos: usize,
    endian: Endian,
    allow_compressed: bool,
    variables: &mut Vec<MatVariable>,
) -> Result<(), DataError> {
    while pos < bytes.len() {
        let (el, next) = element(bytes, pos, endian)?;
        match el.kind {
            MI_MATRIX => variables.extend(matrix(el.data, endian).map_err(|e| context(e, pos))?),
            MI_COMPRESSED if allow_compressed => {
                let inner = inflate::inflate_zlib(el.data, MAX_DECOMPRESSED)
                    .map_err(|e| context(e.into(), pos))?;
                elements(&inner, 0, endian, false, variables)
                    .map_err(|e| compressed_context(e, pos))?;
            }
            MI_COMPRESSED => {
                return Err(invalid(format!("nested compressed element at byte {pos}")));
            }
            _ => {} // Not a variable: nothing to read.
        }
        pos = next;
    }
    Ok(())
}

/// One data element: its type and its bytes.
struct Element<'a> {
    kind: u32,
    data: &'a [u8],
}

/// Reads the element at `pos` and returns it with the position of the next element.
/// Handles the small-element format (type and size packed in 4 bytes, data in the next
/// 4) and the 8-byte padding after normal elements (absent after compressed ones).
fn element(bytes: &[u8], pos: usize, endian: Endian) -> Result<(Element<'_>, usize), DataError> {
    let tag = pos.checked_add(8).and_then(|end| bytes.get(pos..end));
    let Some(tag) = tag else {
        return Err(invalid(format!(
            "truncated element tag at byte {pos}: {} bytes left",
            bytes.len() - pos.min(bytes.len())
        )));
    };
    let first = endian.u32([tag[0], tag[1], tag[2], tag[3]]);
    if first >> 16 != 0 {
        let size = (first >> 16) as usize;
        let data = tag
            .get(4..4 + size.min(4))
            .filter(|_| size <= 4)
            .ok_or_else(|| {
                invalid(format!(
                    "small data element at byte {pos} declares {size} bytes; at most 4 fit"
                ))
            })?;
        return Ok((
            Element {
                kind: first & 0xffff,
                data,
            },
            pos + 8,
        ));
    }
    let size = endian.u32([tag[4], tag[5], tag[6], tag[7]]) as usize;
    let start = pos + 8;
    let Some(end) = start.checked_add(size).filter(|&end| end <= bytes.len()) else {
        return Err(invalid(format!(
            "truncated: the element at byte {pos} declares {size} bytes but only {} remain",
            bytes.len() - start
        )));
    };
    let next = if first == MI_COMPRESSED {
        end
    } else {
        start.saturating_add(size.div_ceil(8).saturating_mul(8))
    };
    Ok((
        Element {
            kind: first,
            data: &bytes[start..end],
        },
        next.min(bytes.len()),
    ))
}

/// Decodes an `miMATRIX` element's contents; `None` for an empty element (MATLAB's
/// placeholder for an empty cell).
fn matrix(data: &[u8], endian: Endian) -> Result<Option<MatVariable>, DataError> {
    if data.is_empty() {
        return Ok(None);
    }
    let (flags, pos) = element(data, 0, endian)?;
    let flags = match (flags.kind, flags.data) {
        (MI_UINT32, &[a, b, c, d, ..]) if flags.data.len() == 8 => endian.u32([a, b, c, d]),
        (kind, data) => {
            return Err(invalid(format!(
                "array flags must be 8 bytes of type miUINT32, found {} bytes of type {kind}",
                data.len()
            )));
        }
    };
    let class = MatClass::from_code((flags & 0xff) as u8);
    let complex = flags & COMPLEX_FLAG != 0;

    let (dims_el, pos) = element(data, pos, endian)?;
    if dims_el.kind != MI_INT32 || !dims_el.data.len().is_multiple_of(4) || dims_el.data.len() < 8 {
        return Err(invalid(format!(
            "dimensions must be at least two miINT32 values, found {} bytes of type {}",
            dims_el.data.len(),
            dims_el.kind
        )));
    }
    let dims = dims_el
        .data
        .chunks_exact(4)
        .map(|c| {
            let d = endian.i32([c[0], c[1], c[2], c[3]]);
            usize::try_from(d).map_err(|_| invalid(format!("negative dimension {d}")))
        })
        .collect::<Result<Vec<_>, _>>()?;

    let (name_el, pos) = element(data, pos, endian)?;
    if name_el.kind != MI_INT8 && name_el.kind != MI_UTF8 {
        return Err(invalid(format!(
            "array name must be of type miINT8, found type {}",
            name_el.kind
        )));
    }
    let name = String::from_utf8_lossy(name_el.data).into_owned();

    let values = if class.has_plain_values() {
        let (real, _) = element(data, pos, endian).map_err(|e| named(e, &name))?;
        Some(values(&real, &dims, endian).map_err(|e| named(e, &name))?)
    } else {
        None
    };
    Ok(Some(MatVariable {
        name,
        class,
        dims,
        complex,
        values,
    }))
}

/// Decodes a real part, which must hold exactly one value per array element.
fn values(el: &Element<'_>, dims: &[usize], endian: Endian) -> Result<MatValues, DataError> {
    let width = match el.kind {
        MI_INT8 | MI_UINT8 | MI_UTF8 => 1,
        MI_INT16 | MI_UINT16 | MI_UTF16 => 2,
        MI_INT32 | MI_UINT32 | MI_SINGLE | MI_UTF32 => 4,
        MI_DOUBLE | MI_INT64 | MI_UINT64 => 8,
        other => return Err(invalid(format!("values of unsupported data type {other}"))),
    };
    let expected = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let count = el.data.len() / width;
    if !el.data.len().is_multiple_of(width) || expected != Some(count) {
        let dims_text = dims
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("×");
        return Err(invalid(format!(
            "dimensions {dims_text} do not match the {} bytes of values ({width} bytes each)",
            el.data.len()
        )));
    }
    let wide =
        |f: fn(Endian, &[u8]) -> f64| el.data.chunks_exact(width).map(|c| f(endian, c)).collect();
    Ok(match el.kind {
        MI_UINT8 | MI_UTF8 => MatValues::U8(el.data.to_vec()),
        MI_INT8 => MatValues::F64(el.data.iter().map(|&b| f64::from(b as i8)).collect()),
        MI_INT16 => MatValues::F64(wide(|e, c| f64::from(e.u16([c[0], c[1]]) as i16))),
        MI_UINT16 | MI_UTF16 => MatValues::F64(wide(|e, c| f64::from(e.u16([c[0], c[1]])))),
        MI_INT32 => MatValues::F64(wide(|e, c| f64::from(e.i32([c[0], c[1], c[2], c[3]])))),
        MI_UINT32 | MI_UTF32 => {
            MatValues::F64(wide(|e, c| f64::from(e.u32([c[0], c[1], c[2], c[3]]))))
        }
        MI_SINGLE => MatValues::F64(wide(|e, c| {
            f64::from(f32::from_bits(e.u32([c[0], c[1], c[2], c[3]])))
        })),
        MI_DOUBLE => MatValues::F64(wide(|e, c| f64::from_bits(e.u64(c)))),
        MI_INT64 => MatValues::F64(wide(|e, c| e.u64(c) as i64 as f64)),
        _ => MatValues::F64(wide(|e, c| e.u64(c) as f64)),
    })
}

/// Byte order of the file, from the header's endian indicator.
#[derive(Debug, Clone, Copy)]
enum Endian {
    Little,
    Big,
}

impl Endian {
    fn u16(self, b: [u8; 2]) -> u16 {
        match self {
            Self::Little => u16::from_le_bytes(b),
            Self::Big => u16::from_be_bytes(b),
        }
    }

    fn u32(self, b: [u8; 4]) -> u32 {
        match self {
            Self::Little => u32::from_le_bytes(b),
            Self::Big => u32::from_be_bytes(b),
        }
    }

    fn i32(self, b: [u8; 4]) -> i32 {
        self.u32(b) as i32
    }

    /// Reads 8 bytes; callers pass chunks of exactly 8.
    fn u64(self, c: &[u8]) -> u64 {
        let mut b = [0; 8];
        b.copy_from_slice(&c[..8]);
        match self {
            Self::Little => u64::from_le_bytes(b),
            Self::Big => u64::from_be_bytes(b),
        }
    }
}

fn invalid(problem: impl Into<String>) -> DataError {
    DataError::Invalid(problem.into())
}

fn context(e: DataError, pos: usize) -> DataError {
    match e {
        DataError::Invalid(p) => invalid(format!("element at byte {pos}: {p}")),
        other => other,
    }
}

fn compressed_context(e: DataError, pos: usize) -> DataError {
    match e {
        DataError::Invalid(p) => {
            invalid(format!("inside the compressed element at byte {pos}: {p}"))
        }
        other => other,
    }
}

fn named(e: DataError, name: &str) -> DataError {
    match e {
        DataError::Invalid(p) => invalid(format!("variable '{name}': {p}")),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little- or big-endian file with the given elements after the header.
    fn file(big_endian: bool, version: u16, body: &[u8]) -> Vec<u8> {
        let mut out = b"MATLAB 5.0 MAT-file, test".to_vec();
        out.resize(116, b' ');
        out.extend([0; 8]);
        if big_endian {
            out.extend(version.to_be_bytes());
            out.extend(b"MI");
        } else {
            out.extend(version.to_le_bytes());
            out.extend(b"IM");
        }
        out.extend_from_slice(body);
        out
    }

    fn el(big: bool, kind: u32, data: &[u8]) -> Vec<u8> {
        let word = |v: u32| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut out = word(kind).to_vec();
        out.extend(word(data.len() as u32));
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(8) * 8, 0);
        out
    }

    /// A small-format element (≤ 4 bytes of data).
    fn small(big: bool, kind: u32, data: &[u8]) -> Vec<u8> {
        let packed = ((data.len() as u32) << 16) | kind;
        let mut out = if big {
            packed.to_be_bytes().to_vec()
        } else {
            packed.to_le_bytes().to_vec()
        };
        out.extend_from_slice(data);
        out.resize(8, 0);
        out
    }

    fn matrix_el(big: bool, class: u8, dims: &[i32], name: &[u8], real: Vec<u8>) -> Vec<u8> {
        let word = |v: u32| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let flags = [word(u32::from(class)), word(0)].concat();
        let dims: Vec<u8> = dims.iter().flat_map(|&d| word(d as u32)).collect();
        let body = [
            el(big, MI_UINT32, &flags),
            el(big, MI_INT32, &dims),
            small(big, MI_INT8, name),
            real,
        ]
        .concat();
        el(big, MI_MATRIX, &body)
    }

    #[test]
    fn reads_big_endian_doubles_and_small_elements() {
        let reals: Vec<u8> = [1.5f64, -2.0]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        let bytes = file(
            true,
            0x0100,
            &matrix_el(true, 6, &[1, 2], b"ab", el(true, MI_DOUBLE, &reals)),
        );
        let mat = parse(&bytes).unwrap();
        let v = mat.get("ab").unwrap();
        assert_eq!(
            (v.class, v.dims.clone(), v.complex),
            (MatClass::Double, vec![1, 2], false)
        );
        assert_eq!(v.values, Some(MatValues::F64(vec![1.5, -2.0])));
        assert!(mat.description.starts_with("MATLAB 5.0"));
    }

    #[test]
    fn reads_narrow_storage_in_small_format() {
        // A 1×3 double array stored as three miUINT8 values in the small format.
        let bytes = file(
            false,
            0x0100,
            &matrix_el(false, 6, &[3, 1], b"y", small(false, MI_UINT8, &[10, 1, 2])),
        );
        let mut mat = parse(&bytes).unwrap();
        let y = mat.take("y").unwrap();
        assert_eq!(y.values.unwrap().to_f64(), vec![10.0, 1.0, 2.0]);
        assert!(mat.variables.is_empty());
    }

    #[test]
    fn rejects_bad_headers_and_v73() {
        assert!(
            parse(&[0; 100])
                .unwrap_err()
                .to_string()
                .contains("too short")
        );
        assert!(
            parse(&[0; 128])
                .unwrap_err()
                .to_string()
                .contains("endian indicator")
        );
        assert!(
            parse(&file(false, 0x0200, &[]))
                .unwrap_err()
                .to_string()
                .contains("7.3")
        );
    }

    #[test]
    fn rejects_count_mismatch_and_truncation() {
        let bytes = file(
            false,
            0x0100,
            &matrix_el(false, 9, &[2, 2], b"X", el(false, MI_UINT8, &[1, 2, 3])),
        );
        let err = parse(&bytes).unwrap_err().to_string();
        assert!(err.contains("variable 'X'") && err.contains("2×2"), "{err}");
        let good = file(
            false,
            0x0100,
            &matrix_el(false, 9, &[2, 2], b"X", el(false, MI_UINT8, &[1, 2, 3, 4])),
        );
        let err = parse(&good[..good.len() - 9]).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
    }

    #[test]
    fn bytes_conversion_checks_range() {
        assert_eq!(
            MatValues::F64(vec![0.0, 255.0]).into_bytes().unwrap(),
            vec![0, 255]
        );
        assert!(MatValues::F64(vec![256.0]).into_bytes().is_err());
        assert!(MatValues::F64(vec![0.5]).into_bytes().is_err());
        assert!(MatValues::F64(vec![f64::NAN]).into_bytes().is_err());
    }
}
