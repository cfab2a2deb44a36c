//! A minimal reader for the parts of an ONNX `ModelProto` (protobuf) that [`crate::net`] needs:
//! the default-domain opset, the graph's nodes (op type, inputs, outputs, attributes), its
//! initialisers (FLOAT / INT64 tensors, `raw_data` or `float_data` / `int64_data`) and its
//! declared inputs and outputs. Anything malformed (truncated varints or fields, wrong wire
//! types, invalid UTF-8) or outside that subset (external data, other tensor types) is an error,
//! never a guess. Field numbers are those of `onnx.proto` (IR version 3 and later).

/// Why the model was refused.
pub(crate) type Error = String;
type Res<T> = Result<T, Error>;

/// One protobuf field value.
#[derive(Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Fixed64,
    Bytes(&'a [u8]),
    Fixed32(u32),
}

/// Iterates over a message's fields.
struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Fields { buf, pos: 0 }
    }

    fn varint(&mut self) -> Res<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or("truncated varint")?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint longer than 10 bytes".into())
    }

    fn take(&mut self, n: usize) -> Res<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or("field length overflows")?;
        let s = self.buf.get(self.pos..end).ok_or("truncated field")?;
        self.pos = end;
        Ok(s)
    }

    fn next_field(&mut self) -> Option<Res<(u32, Wire<'a>)>> {
        if self.pos >= self.buf.len() {
            return None;
        }
        Some(self.read_field())
    }

    fn read_field(&mut self) -> Res<(u32, Wire<'a>)> {
        let key = self.varint()?;
        let field = u32::try_from(key >> 3).map_err(|_| "field number too large")?;
        if field == 0 {
            return Err("field number 0".into());
        }
        let wire = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Wire::Fixed64
            }
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| "length too large")?;
                Wire::Bytes(self.take(n)?)
            }
            5 => Wire::Fixed32(u32::from_le_bytes(
                self.take(4)?.try_into().expect("4 bytes"),
            )),
            w => return Err(format!("unsupported wire type {w}")),
        };
        Ok((field, wire))
    }
}

/// Calls `f` for every field of `buf`.
fn each<'a>(buf: &'a [u8], mut f: impl FnMut(u32, Wire<'a>) -> Res<()>) -> Res<()> {
    let mut fields = Fields::new(buf);
    while let Some(r) = fields.next_field() {
        let (n, w) = r?;
        f(n, w)?;
    }
    Ok(())
}

fn bytes<'a>(w: Wire<'a>, what: &str) -> Res<&'a [u8]> {
    match w {
        Wire::Bytes(b) => Ok(b),
        _ => Err(format!("{what}: expected a length-delimited field")),
    }
}

fn string(w: Wire<'_>, what: &str) -> Res<String> {
    std::str::from_utf8(bytes(w, what)?)
        .map(str::to_owned)
        .map_err(|_| format!("{what}: not UTF-8"))
}

fn int(w: Wire<'_>, what: &str) -> Res<i64> {
    match w {
        Wire::Varint(v) => Ok(v as i64),
        _ => Err(format!("{what}: expected a varint")),
    }
}

/// A repeated int64 field, packed or not: appends to `out`.
fn ints(w: Wire<'_>, out: &mut Vec<i64>, what: &str) -> Res<()> {
    match w {
        Wire::Varint(v) => out.push(v as i64),
        Wire::Bytes(b) => {
            let mut f = Fields::new(b);
            while f.pos < b.len() {
                out.push(f.varint()? as i64);
            }
        }
        _ => return Err(format!("{what}: expected int64 values")),
    }
    Ok(())
}

/// A repeated float field, packed or not: appends to `out`.
fn floats(w: Wire<'_>, out: &mut Vec<f32>, what: &str) -> Res<()> {
    match w {
        Wire::Fixed32(v) => out.push(f32::from_bits(v)),
        Wire::Bytes(b) => {
            if b.len() % 4 != 0 {
                return Err(format!("{what}: packed floats not a multiple of 4 bytes"));
            }
            out.extend(
                b.chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))),
            );
        }
        _ => return Err(format!("{what}: expected float values")),
    }
    Ok(())
}

#[derive(Debug, Default)]
pub(crate) struct Model {
    /// Version of the default ("" / "ai.onnx") operator set, 0 when not declared.
    pub opset: i64,
    pub graph: Graph,
}

#[derive(Debug, Default)]
pub(crate) struct Graph {
    pub nodes: Vec<Node>,
    pub initializers: Vec<Tensor>,
    pub inputs: Vec<ValueInfo>,
    pub outputs: Vec<ValueInfo>,
}

#[derive(Debug, Default)]
pub(crate) struct Node {
    pub op_type: String,
    pub domain: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attributes: Vec<Attribute>,
}

#[derive(Debug)]
pub(crate) struct Attribute {
    pub name: String,
    pub value: AttrValue,
}

#[derive(Debug, PartialEq)]
pub(crate) enum AttrValue {
    Int(i64),
    Ints(Vec<i64>),
    String(Vec<u8>),
    Float(f32),
    /// Any other attribute type (its `AttributeProto.type` number): no supported operator
    /// accepts one.
    Unsupported(i64),
}

#[derive(Debug, PartialEq)]
pub(crate) enum TensorData {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

#[derive(Debug)]
pub(crate) struct Tensor {
    pub name: String,
    pub dims: Vec<usize>,
    pub data: TensorData,
}

#[derive(Debug, Default)]
pub(crate) struct ValueInfo {
    pub name: String,
    /// `TensorProto.DataType` (1 = FLOAT), 0 when not a tensor type.
    pub elem_type: i64,
    /// Dimensions; `None` for a symbolic or missing one.
    pub dims: Vec<Option<usize>>,
}

/// Parses a serialized `ModelProto`.
pub(crate) fn parse_model(buf: &[u8]) -> Res<Model> {
    let mut model = Model::default();
    let mut graph = None;
    each(buf, |n, w| {
        match n {
            7 => {
                if graph.is_some() {
                    return Err("more than one graph".into());
                }
                graph = Some(parse_graph(bytes(w, "graph")?)?);
            }
            8 => {
                let (mut domain, mut version) = (String::new(), 0);
                each(bytes(w, "opset_import")?, |n, w| {
                    match n {
                        1 => domain = string(w, "opset domain")?,
                        2 => version = int(w, "opset version")?,
                        _ => {}
                    }
                    Ok(())
                })?;
                if domain.is_empty() || domain == "ai.onnx" {
                    model.opset = version;
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    model.graph = graph.ok_or("no graph")?;
    Ok(model)
}

fn parse_graph(buf: &[u8]) -> Res<Graph> {
    let mut g = Graph::default();
    each(buf, |n, w| {
        match n {
            1 => g.nodes.push(parse_node(bytes(w, "node")?)?),
            5 => g.initializers.push(parse_tensor(bytes(w, "initializer")?)?),
            11 => g.inputs.push(parse_value_info(bytes(w, "input")?)?),
            12 => g.outputs.push(parse_value_info(bytes(w, "output")?)?),
            15 => return Err("sparse initializers are not supported".into()),
            _ => {}
        }
        Ok(())
    })?;
    Ok(g)
}

fn parse_node(buf: &[u8]) -> Res<Node> {
    let mut node = Node::default();
    each(buf, |n, w| {
        match n {
            1 => node.inputs.push(string(w, "node input")?),
            2 => node.outputs.push(string(w, "node output")?),
            4 => node.op_type = string(w, "op_type")?,
            5 => node
                .attributes
                .push(parse_attribute(bytes(w, "attribute")?)?),
            7 => node.domain = string(w, "domain")?,
            _ => {}
        }
        Ok(())
    })?;
    if node.op_type.is_empty() {
        return Err("node without op_type".into());
    }
    Ok(node)
}

fn parse_attribute(buf: &[u8]) -> Res<Attribute> {
    let (mut name, mut ty) = (String::new(), 0i64);
    let (mut i, mut f, mut s, mut list) = (None, None, None, Vec::new());
    let mut other = false;
    each(buf, |n, w| {
        match n {
            1 => name = string(w, "attribute name")?,
            20 => ty = int(w, "attribute type")?,
            2 => match w {
                Wire::Fixed32(v) => f = Some(f32::from_bits(v)),
                _ => return Err("attribute f: expected a float".into()),
            },
            3 => i = Some(int(w, "attribute i")?),
            4 => s = Some(bytes(w, "attribute s")?.to_vec()),
            8 => ints(w, &mut list, "attribute ints")?,
            5 | 6 | 7 | 9 | 10 | 11 | 13 | 14 | 22 | 23 => other = true,
            21 => return Err("attribute references are not supported".into()),
            _ => {}
        }
        Ok(())
    })?;
    // AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, INTS 7.
    let value = match ty {
        1 => AttrValue::Float(f.ok_or_else(|| format!("attribute {name}: no value"))?),
        2 => AttrValue::Int(i.ok_or_else(|| format!("attribute {name}: no value"))?),
        3 => AttrValue::String(s.ok_or_else(|| format!("attribute {name}: no value"))?),
        7 => AttrValue::Ints(list),
        0 if other => AttrValue::Unsupported(0),
        0 => return Err(format!("attribute {name}: no type")),
        t => AttrValue::Unsupported(t),
    };
    Ok(Attribute { name, value })
}

fn parse_tensor(buf: &[u8]) -> Res<Tensor> {
    let (mut name, mut dims, mut data_type) = (String::new(), Vec::new(), 0i64);
    let (mut raw, mut f32s, mut i64s) = (None, Vec::new(), Vec::new());
    each(buf, |n, w| {
        match n {
            1 => ints(w, &mut dims, "tensor dims")?,
            2 => data_type = int(w, "tensor data_type")?,
            3 => return Err("segmented tensors are not supported".into()),
            4 => floats(w, &mut f32s, "tensor float_data")?,
            7 => ints(w, &mut i64s, "tensor int64_data")?,
            8 => name = string(w, "tensor name")?,
            9 => raw = Some(bytes(w, "tensor raw_data")?),
            13 | 14 => return Err("external tensor data is not supported".into()),
            5 | 6 | 10 | 11 | 12 => return Err("unsupported tensor data field".into()),
            _ => {}
        }
        Ok(())
    })?;
    let dims = dims
        .into_iter()
        .map(|d| usize::try_from(d).map_err(|_| format!("tensor {name}: negative dimension")))
        .collect::<Res<Vec<usize>>>()?;
    let count = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| format!("tensor {name}: too large"))?;
    // TensorProto.DataType: FLOAT 1, INT64 7.
    let data = match (data_type, raw) {
        (1, Some(r)) => {
            if !f32s.is_empty() || r.len() % 4 != 0 {
                return Err(format!("tensor {name}: bad float data"));
            }
            TensorData::F32(
                r.chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                    .collect(),
            )
        }
        (1, None) => TensorData::F32(f32s),
        (7, Some(r)) => {
            if !i64s.is_empty() || r.len() % 8 != 0 {
                return Err(format!("tensor {name}: bad int64 data"));
            }
            TensorData::I64(
                r.chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
            )
        }
        (7, None) => TensorData::I64(i64s),
        (t, _) => return Err(format!("tensor {name}: unsupported data type {t}")),
    };
    let len = match &data {
        TensorData::F32(v) => v.len(),
        TensorData::I64(v) => v.len(),
    };
    if len != count {
        return Err(format!(
            "tensor {name}: {len} values for dims {dims:?} ({count})"
        ));
    }
    Ok(Tensor { name, dims, data })
}

fn parse_value_info(buf: &[u8]) -> Res<ValueInfo> {
    let mut v = ValueInfo::default();
    each(buf, |n, w| {
        match n {
            1 => v.name = string(w, "value name")?,
            // TypeProto.tensor_type (1) → Tensor.elem_type (1), Tensor.shape (2) →
            // TensorShapeProto.dim (1) → Dimension.dim_value (1) / dim_param (2).
            2 => each(bytes(w, "value type")?, |n, w| {
                if n != 1 {
                    return Ok(());
                }
                each(bytes(w, "tensor type")?, |n, w| {
                    match n {
                        1 => v.elem_type = int(w, "elem_type")?,
                        2 => each(bytes(w, "shape")?, |n, w| {
                            if n == 1 {
                                let mut d = None;
                                each(bytes(w, "dim")?, |n, w| {
                                    if n == 1 {
                                        d = usize::try_from(int(w, "dim_value")?).ok();
                                    }
                                    Ok(())
                                })?;
                                v.dims.push(d);
                            }
                            Ok(())
                        })?,
                        _ => {}
                    }
                    Ok(())
                })
            })?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_model() {
        let m = parse_model(crate::MODEL).expect("parses");
        assert_eq!(m.opset, 11);
        assert_eq!(m.graph.nodes.len(), 94);
        assert_eq!(m.graph.inputs[0].name, "input");
        assert_eq!(
            m.graph.inputs[0].dims,
            [Some(1), Some(3), Some(128), Some(128)]
        );
        assert_eq!(m.graph.nodes[0].op_type, "Conv");
        let w = &m.graph.initializers;
        assert!(w.iter().any(|t| t.dims == [24, 3, 5, 5]));
    }

    #[test]
    fn refuses_truncated_input() {
        let model = crate::MODEL;
        for len in [1, 2, 100, model.len() / 2, model.len() - 1] {
            assert!(parse_model(&model[..len]).is_err(), "truncated at {len}");
        }
        // A varint that never ends, a length past the end, a bad wire type.
        assert!(parse_model(&[0x08, 0x80]).is_err());
        assert!(parse_model(&[0x3a, 0x05, 0x00]).is_err());
        assert!(parse_model(&[0x3b]).is_err());
        assert!(parse_model(&[]).is_err(), "no graph");
    }

    #[test]
    fn reads_attributes_and_tensors() {
        // AttributeProto { name: "pads", type: INTS, ints: packed [1, 2] }
        let a = parse_attribute(&[
            0x0a, 4, b'p', b'a', b'd', b's', 0xa0, 0x01, 7, 0x42, 2, 1, 2,
        ])
        .expect("attribute");
        assert_eq!(a.name, "pads");
        assert_eq!(a.value, AttrValue::Ints(vec![1, 2]));
        // TensorProto { dims: [2], data_type: FLOAT, float_data: packed [1.0, 2.0] }
        let mut t = vec![0x08, 2, 0x10, 1, 0x22, 8];
        t.extend(1.0f32.to_le_bytes());
        t.extend(2.0f32.to_le_bytes());
        let t = parse_tensor(&t).expect("tensor");
        assert_eq!(t.data, TensorData::F32(vec![1.0, 2.0]));
        // Three values declared, two given: refused.
        let mut bad = vec![0x08, 3, 0x10, 1, 0x22, 8];
        bad.extend([0; 8]);
        assert!(parse_tensor(&bad).is_err());
        // A double tensor (data_type 11): refused.
        assert!(parse_tensor(&[0x08, 1, 0x10, 11, 0x4a, 8, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
