//! A small inference engine for the face model: reads the ONNX graph ([`crate::onnx`]), checks
//! every node against the few operators and attribute values it implements, infers every shape,
//! and builds a fixed execution plan with preallocated buffers. Anything else is refused
//! ([`FaceError::Model`]) rather than computed differently from ONNX.
//!
//! Supported (batch 1, f32): `Conv` (group 1 or depthwise, any kernel / stride / explicit pads,
//! dilation 1), `Relu`, `Add` (same shapes), `Pad` (constant zero padding appended to the channel
//! axis only), `MaxPool` (no padding, dilation 1), `Transpose`, `Reshape`, `Concat`.
//! Fusions: `Conv` → `Add` (of an earlier tensor, or of a channel `Pad` of one) → `Relu` runs as
//! one step; 1×1 convolutions are GEMMs, other full convolutions im2col + GEMM.

use std::collections::HashMap;

use crate::kernels::{self, Epilogue, Geom};
use crate::onnx::{self, AttrValue, Node, TensorData};
use crate::FaceError;

fn err(m: impl Into<String>) -> FaceError {
    FaceError::Model(m.into())
}

enum Op {
    /// `out = W · x`: a 1×1 convolution (`offs[kk] = kk · n`).
    Gemm {
        packed: Vec<f32>,
        bias: Vec<f32>,
        offs: Vec<usize>,
        n: usize,
    },
    /// Any other full convolution: a GEMM over the padded input ([`kernels::conv`]).
    Conv {
        packed: Vec<f32>,
        bias: Vec<f32>,
        offs: Vec<usize>,
        geom: Geom,
    },
    Depthwise {
        w: Vec<f32>,
        bias: Vec<f32>,
        geom: Geom,
    },
    MaxPool(Geom),
    /// Copies the input and appends this many zero floats (channel padding).
    PadTail(usize),
    Add,
    Relu,
    Transpose {
        dims: [usize; 4],
        perm: [usize; 4],
    },
    /// Reshape: the same floats.
    Copy,
    /// Concatenation on an axis with only unit dimensions before it: the inputs one after the
    /// other.
    Concat,
}

struct Step {
    op: Op,
    inputs: Vec<usize>,
    out: usize,
    /// Residual added before the ReLU (conv steps only): value and its channel count.
    res: Option<(usize, usize)>,
    relu: bool,
}

/// The execution plan and its buffers.
pub(crate) struct Net {
    steps: Vec<Step>,
    /// Buffer of each value.
    buf_of: Vec<usize>,
    bufs: Vec<Vec<f32>>,
    dims: Vec<Vec<usize>>,
    input: usize,
    outputs: Vec<(String, usize)>,
    /// Padded input of the current convolution.
    scratch: Vec<f32>,
    /// A GEMM's packed right-hand-side panel.
    panel: Vec<f32>,
}

fn attr<'a>(node: &'a Node, name: &str) -> Option<&'a AttrValue> {
    node.attributes
        .iter()
        .find(|a| a.name == name)
        .map(|a| &a.value)
}

/// Refuses attributes outside `allowed`.
fn check_attrs(node: &Node, allowed: &[&str]) -> Result<(), FaceError> {
    match node
        .attributes
        .iter()
        .find(|a| !allowed.contains(&a.name.as_str()))
    {
        Some(a) => Err(err(format!(
            "{}: unsupported attribute {}",
            node.op_type, a.name
        ))),
        None => Ok(()),
    }
}

fn ints_attr(node: &Node, name: &str, default: &[i64]) -> Result<Vec<usize>, FaceError> {
    let v = match attr(node, name) {
        None => default.to_vec(),
        Some(AttrValue::Ints(v)) => v.clone(),
        Some(_) => return Err(err(format!("{}: {name} is not INTS", node.op_type))),
    };
    v.into_iter()
        .map(|x| usize::try_from(x).map_err(|_| err(format!("{}: negative {name}", node.op_type))))
        .collect()
}

fn int_attr(node: &Node, name: &str, default: i64) -> Result<i64, FaceError> {
    match attr(node, name) {
        None => Ok(default),
        Some(AttrValue::Int(v)) => Ok(*v),
        Some(_) => Err(err(format!("{}: {name} is not INT", node.op_type))),
    }
}

fn str_attr<'a>(node: &'a Node, name: &str, default: &'a [u8]) -> Result<&'a [u8], FaceError> {
    match attr(node, name) {
        None => Ok(default),
        Some(AttrValue::String(v)) => Ok(v),
        Some(_) => Err(err(format!("{}: {name} is not STRING", node.op_type))),
    }
}

struct Planner<'m> {
    consts: HashMap<&'m str, &'m onnx::Tensor>,
    /// Value id of every computed tensor defined so far.
    values: HashMap<&'m str, usize>,
    dims: Vec<Vec<usize>>,
    /// How many times each name is read (node inputs and graph outputs).
    uses: HashMap<&'m str, usize>,
    /// Node index reading each name (the last one: only used when `uses` is 1).
    reader: HashMap<&'m str, usize>,
    /// Node index writing each name.
    producer: HashMap<&'m str, usize>,
    nodes: &'m [Node],
    done: Vec<bool>,
    steps: Vec<Step>,
}

impl<'m> Planner<'m> {
    fn value(&self, name: &str) -> Result<usize, FaceError> {
        self.values
            .get(name)
            .copied()
            .ok_or_else(|| err(format!("tensor {name} is used before it is computed")))
    }

    fn define(&mut self, name: &'m str, dims: Vec<usize>) -> Result<usize, FaceError> {
        if self.values.contains_key(name) || self.consts.contains_key(name) {
            return Err(err(format!("tensor {name} is defined twice")));
        }
        let id = self.dims.len();
        self.dims.push(dims);
        self.values.insert(name, id);
        Ok(id)
    }

    fn f32_const(&self, name: &str) -> Result<(&'m [usize], &'m [f32]), FaceError> {
        match self.consts.get(name) {
            Some(t) => match &t.data {
                TensorData::F32(v) => Ok((&t.dims, v)),
                TensorData::I64(_) => Err(err(format!("{name}: expected float weights"))),
            },
            None => Err(err(format!("{name}: expected a constant"))),
        }
    }

    fn i64_const(&self, name: &str) -> Result<&'m [i64], FaceError> {
        match self.consts.get(name).map(|t| &t.data) {
            Some(TensorData::I64(v)) => Ok(v),
            _ => Err(err(format!("{name}: expected a constant int64 tensor"))),
        }
    }

    /// The node reading `name`, when it is the only reader and `name` is not a graph output.
    fn sole_reader(&self, name: &str, op: &str) -> Option<usize> {
        let j = *self.reader.get(name)?;
        (self.uses.get(name) == Some(&1) && !self.done[j] && self.nodes[j].op_type == op)
            .then_some(j)
    }

    /// `[c, h, w]` of a batch-1 NCHW value.
    fn chw(&self, v: usize, op: &str) -> Result<(usize, usize, usize), FaceError> {
        match self.dims[v][..] {
            [1, c, h, w] => Ok((c, h, w)),
            ref d => Err(err(format!("{op}: expected a 1×C×H×W input, got {d:?}"))),
        }
    }

    /// A Pad node that appends zero channels (and nothing else): its input and the number of
    /// added channels.
    fn channel_pad(&self, node: &'m Node) -> Result<(usize, usize), FaceError> {
        check_attrs(node, &["mode"])?;
        if str_attr(node, "mode", b"constant")? != b"constant" {
            return Err(err("Pad: only mode=constant is supported"));
        }
        let (x, pads) = match &node.inputs[..] {
            [x, p] => (x, p),
            [x, p, c] if c.is_empty() => (x, p),
            [x, p, c] => {
                match self.f32_const(c)? {
                    (_, [v]) if *v == 0.0 => {}
                    _ => return Err(err("Pad: only zero padding is supported")),
                }
                (x, p)
            }
            _ => return Err(err("Pad: expected 2 or 3 inputs")),
        };
        let x = self.value(x)?;
        self.chw(x, "Pad")?;
        match self.i64_const(pads)? {
            [0, 0, 0, 0, 0, extra, 0, 0] if *extra >= 0 => Ok((x, *extra as usize)),
            p => Err(err(format!(
                "Pad: only channels appended at the end are supported, not pads {p:?}"
            ))),
        }
    }

    fn conv(&mut self, i: usize) -> Result<(), FaceError> {
        let node = &self.nodes[i];
        check_attrs(
            node,
            &[
                "auto_pad",
                "dilations",
                "group",
                "kernel_shape",
                "pads",
                "strides",
            ],
        )?;
        let (x, wname, bname) = match &node.inputs[..] {
            [x, w] => (x, w, None),
            [x, w, b] => (x, w, Some(b)),
            _ => return Err(err("Conv: expected 2 or 3 inputs")),
        };
        let x = self.value(x)?;
        let (c, h, w) = self.chw(x, "Conv")?;
        let (wdims, weights) = self.f32_const(wname)?;
        let &[cout, cin_g, kh, kw] = wdims else {
            return Err(err("Conv: weights are not 4-D"));
        };
        if str_attr(node, "auto_pad", b"NOTSET")? != b"NOTSET" {
            return Err(err("Conv: only auto_pad=NOTSET is supported"));
        }
        if ints_attr(node, "dilations", &[1, 1])? != [1, 1] {
            return Err(err("Conv: only dilation 1 is supported"));
        }
        let ks = ints_attr(node, "kernel_shape", &[kh as i64, kw as i64])?;
        if ks != [kh, kw] {
            return Err(err("Conv: kernel_shape does not match the weights"));
        }
        let strides = ints_attr(node, "strides", &[1, 1])?;
        let pads = ints_attr(node, "pads", &[0, 0, 0, 0])?;
        let (&[sh, sw], &[pt, pl, pb, pr]) = (&strides[..], &pads[..]) else {
            return Err(err("Conv: strides / pads of the wrong length"));
        };
        if sh == 0 || sw == 0 || h + pt + pb < kh || w + pl + pr < kw || kh == 0 || kw == 0 {
            return Err(err("Conv: bad geometry"));
        }
        let geom = Geom {
            c,
            h,
            w,
            kh,
            kw,
            sh,
            sw,
            pt,
            pl,
            oh: (h + pt + pb - kh) / sh + 1,
            ow: (w + pl + pr - kw) / sw + 1,
        };
        let bias = match bname {
            Some(b) => {
                let (bd, bv) = self.f32_const(b)?;
                if bd != [cout] {
                    return Err(err("Conv: bias shape does not match"));
                }
                bv.to_vec()
            }
            None => vec![0.0; cout],
        };
        let group = int_attr(node, "group", 1)?;
        let op = if group == 1 && cin_g == c {
            let k = c * kh * kw;
            let n = geom.oh * geom.ow;
            let packed = kernels::pack_gemm(weights, cout, k);
            if kh == 1 && kw == 1 && sh == 1 && sw == 1 && pads == [0, 0, 0, 0] {
                Op::Gemm {
                    packed,
                    bias,
                    offs: (0..k).map(|kk| kk * n).collect(),
                    n,
                }
            } else {
                Op::Conv {
                    packed,
                    bias,
                    offs: kernels::conv_offsets(&geom),
                    geom,
                }
            }
        } else if group == c as i64 && cin_g == 1 && cout == c {
            Op::Depthwise {
                w: weights.to_vec(),
                bias,
                geom,
            }
        } else {
            return Err(err(format!(
                "Conv: group {group} with {c} input channels and weights {wdims:?} is not supported"
            )));
        };
        let out_dims = vec![1, cout, geom.oh, geom.ow];

        // Fuse a following Add (of an earlier value, possibly channel-padded) and Relu.
        let mut out_name = node.outputs[0].as_str();
        let mut res = None;
        if let Some(j) = self.sole_reader(out_name, "Add") {
            let add = &self.nodes[j];
            let other = match &add.inputs[..] {
                [a, b] if a == out_name && b != out_name => Some(b.as_str()),
                [a, b] if b == out_name && a != out_name => Some(a.as_str()),
                _ => None,
            };
            let mut found = None;
            if let Some(other) = other {
                if let Some(&v) = self.values.get(other) {
                    found = Some((v, None));
                } else if let Some(&k) = self.producer.get(other) {
                    let pad = &self.nodes[k];
                    if pad.op_type == "Pad"
                        && !self.done[k]
                        && self.uses.get(other) == Some(&1)
                        && pad.outputs.len() == 1
                        // Fused into this step only when its input is already computed.
                        && pad
                            .inputs
                            .first()
                            .is_some_and(|x| self.values.contains_key(x.as_str()))
                    {
                        let (v, extra) = self.channel_pad(pad)?;
                        found = Some((v, Some((k, extra))));
                    }
                }
            }
            if let (Some((v, pad)), [add_out]) = (found, &add.outputs[..]) {
                let (rc, rh, rw) = self.chw(v, "Add")?;
                let padded = rc + pad.map_or(0, |(_, e)| e);
                if padded != cout || rh != geom.oh || rw != geom.ow {
                    return Err(err("Add: shapes differ (broadcasting is not supported)"));
                }
                check_attrs(add, &[])?;
                if let Some((k, _)) = pad {
                    self.done[k] = true;
                }
                self.done[j] = true;
                res = Some((v, rc));
                out_name = add_out.as_str();
            }
        }
        let mut relu = false;
        if let Some(j) = self.sole_reader(out_name, "Relu") {
            if let [r] = &self.nodes[j].outputs[..] {
                check_attrs(&self.nodes[j], &[])?;
                self.done[j] = true;
                relu = true;
                out_name = r.as_str();
            }
        }
        let out = self.define(out_name, out_dims)?;
        self.steps.push(Step {
            op,
            inputs: vec![x],
            out,
            res,
            relu,
        });
        Ok(())
    }

    fn node(&mut self, i: usize) -> Result<(), FaceError> {
        let node = &self.nodes[i];
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(err(format!(
                "operator domain {} is not supported",
                node.domain
            )));
        }
        if node.op_type == "Conv" {
            return self.conv(i);
        }
        let [out_name] = &node.outputs[..] else {
            return Err(err(format!("{}: expected one output", node.op_type)));
        };
        let one_input = || match &node.inputs[..] {
            [x] => self.value(x),
            _ => Err(err(format!("{}: expected one input", node.op_type))),
        };
        let (op, inputs, dims) = match node.op_type.as_str() {
            "Relu" => {
                check_attrs(node, &[])?;
                let x = one_input()?;
                (Op::Relu, vec![x], self.dims[x].clone())
            }
            "Add" => {
                check_attrs(node, &[])?;
                let [a, b] = &node.inputs[..] else {
                    return Err(err("Add: expected two inputs"));
                };
                let (a, b) = (self.value(a)?, self.value(b)?);
                if self.dims[a] != self.dims[b] {
                    return Err(err("Add: shapes differ (broadcasting is not supported)"));
                }
                (Op::Add, vec![a, b], self.dims[a].clone())
            }
            "Pad" => {
                let (x, extra) = self.channel_pad(node)?;
                let (c, h, w) = self.chw(x, "Pad")?;
                (
                    Op::PadTail(extra * h * w),
                    vec![x],
                    vec![1, c + extra, h, w],
                )
            }
            "MaxPool" => {
                check_attrs(
                    node,
                    &[
                        "auto_pad",
                        "ceil_mode",
                        "dilations",
                        "kernel_shape",
                        "pads",
                        "storage_order",
                        "strides",
                    ],
                )?;
                let x = one_input()?;
                let (c, h, w) = self.chw(x, "MaxPool")?;
                let ks = ints_attr(node, "kernel_shape", &[])?;
                let st = ints_attr(node, "strides", &[1, 1])?;
                let (&[kh, kw], &[sh, sw]) = (&ks[..], &st[..]) else {
                    return Err(err("MaxPool: kernel_shape / strides of the wrong length"));
                };
                if int_attr(node, "ceil_mode", 0)? != 0
                    || int_attr(node, "storage_order", 0)? != 0
                    || ints_attr(node, "dilations", &[1, 1])? != [1, 1]
                    || ints_attr(node, "pads", &[0, 0, 0, 0])? != [0, 0, 0, 0]
                    || kh == 0
                    || kw == 0
                    || sh == 0
                    || sw == 0
                    || h < kh
                    || w < kw
                {
                    return Err(err("MaxPool: unsupported attributes"));
                }
                let (oh, ow) = ((h - kh) / sh + 1, (w - kw) / sw + 1);
                match str_attr(node, "auto_pad", b"NOTSET")? {
                    b"NOTSET" | b"VALID" => {}
                    // SAME: output ceil(size / stride); supported when that needs no padding.
                    b"SAME_UPPER" | b"SAME_LOWER"
                        if oh == h.div_ceil(sh)
                            && ow == w.div_ceil(sw)
                            && (oh - 1) * sh + kh == h
                            && (ow - 1) * sw + kw == w => {}
                    _ => return Err(err("MaxPool: padding is not supported")),
                }
                let g = Geom {
                    c,
                    h,
                    w,
                    kh,
                    kw,
                    sh,
                    sw,
                    pt: 0,
                    pl: 0,
                    oh,
                    ow,
                };
                (Op::MaxPool(g), vec![x], vec![1, c, oh, ow])
            }
            "Transpose" => {
                check_attrs(node, &["perm"])?;
                let x = one_input()?;
                let perm = ints_attr(node, "perm", &[])?;
                let d = &self.dims[x];
                let mut sorted = perm.clone();
                sorted.sort_unstable();
                let (Ok(perm4), Ok(dims4)) = (
                    <[usize; 4]>::try_from(&perm[..]),
                    <[usize; 4]>::try_from(&d[..]),
                ) else {
                    return Err(err(
                        "Transpose: only rank 4 with an explicit perm is supported",
                    ));
                };
                if sorted != [0, 1, 2, 3] {
                    return Err(err("Transpose: perm is not a permutation"));
                }
                let out = perm4.map(|p| dims4[p]).to_vec();
                (
                    Op::Transpose {
                        dims: dims4,
                        perm: perm4,
                    },
                    vec![x],
                    out,
                )
            }
            "Reshape" => {
                check_attrs(node, &["allowzero"])?;
                if int_attr(node, "allowzero", 0)? != 0 {
                    return Err(err("Reshape: allowzero is not supported"));
                }
                let [x, shape] = &node.inputs[..] else {
                    return Err(err("Reshape: expected two inputs"));
                };
                let x = self.value(x)?;
                let total: usize = self.dims[x].iter().product();
                let shape = self.i64_const(shape)?;
                let mut out = Vec::with_capacity(shape.len());
                let mut infer = None;
                for (a, &s) in shape.iter().enumerate() {
                    match s {
                        0 => out.push(
                            *self.dims[x]
                                .get(a)
                                .ok_or_else(|| err("Reshape: 0 past the input's rank"))?,
                        ),
                        -1 if infer.is_none() => {
                            infer = Some(a);
                            out.push(1);
                        }
                        s if s > 0 => out.push(s as usize),
                        _ => return Err(err("Reshape: bad target shape")),
                    }
                }
                let known: usize = out.iter().product();
                if let Some(a) = infer {
                    if known == 0 || total % known != 0 {
                        return Err(err("Reshape: cannot infer the -1 dimension"));
                    }
                    out[a] = total / known;
                }
                if out.iter().product::<usize>() != total {
                    return Err(err("Reshape: element counts differ"));
                }
                (Op::Copy, vec![x], out)
            }
            "Concat" => {
                check_attrs(node, &["axis"])?;
                let ins = node
                    .inputs
                    .iter()
                    .map(|n| self.value(n))
                    .collect::<Result<Vec<_>, _>>()?;
                let first = self
                    .dims
                    .get(*ins.first().ok_or_else(|| err("Concat: no inputs"))?)
                    .ok_or_else(|| err("Concat: input not computed yet"))?
                    .clone();
                let rank = first.len() as i64;
                let axis = int_attr(node, "axis", i64::MAX)?;
                let axis = if (-rank..0).contains(&axis) {
                    axis + rank
                } else {
                    axis
                };
                if !(0..rank).contains(&axis) {
                    return Err(err("Concat: bad axis"));
                }
                let axis = axis as usize;
                if first[..axis].iter().any(|&d| d != 1) {
                    return Err(err("Concat: only axes after unit dimensions are supported"));
                }
                let mut out = first.clone();
                out[axis] = 0;
                for &v in &ins {
                    let d = &self.dims[v];
                    if d.len() != first.len()
                        || d.iter()
                            .zip(&first)
                            .enumerate()
                            .any(|(a, (x, y))| a != axis && x != y)
                    {
                        return Err(err("Concat: shapes differ"));
                    }
                    out[axis] += d[axis];
                }
                (Op::Concat, ins, out)
            }
            op => return Err(err(format!("operator {op} is not supported"))),
        };
        let out = self.define(out_name, dims)?;
        self.steps.push(Step {
            op,
            inputs,
            out,
            res: None,
            relu: false,
        });
        Ok(())
    }
}

impl Net {
    /// Parses and plans an ONNX model with one float input.
    pub fn from_onnx(bytes: &[u8]) -> Result<Net, FaceError> {
        Net::from_model(&onnx::parse_model(bytes).map_err(err)?)
    }

    /// Plans a parsed model.
    fn from_model(model: &onnx::Model) -> Result<Net, FaceError> {
        if !(11..=21).contains(&model.opset) {
            return Err(err(format!(
                "opset {} is not supported (11 to 21)",
                model.opset
            )));
        }
        let g = &model.graph;
        let consts: HashMap<&str, &onnx::Tensor> = g
            .initializers
            .iter()
            .map(|t| (t.name.as_str(), t))
            .collect();
        let mut uses = HashMap::new();
        let mut reader = HashMap::new();
        let mut producer = HashMap::new();
        for (i, n) in g.nodes.iter().enumerate() {
            for o in &n.outputs {
                if producer.insert(o.as_str(), i).is_some() {
                    return Err(err(format!("tensor {o} is defined twice")));
                }
            }
            for x in n.inputs.iter().filter(|x| !x.is_empty()) {
                *uses.entry(x.as_str()).or_insert(0) += 1;
                reader.insert(x.as_str(), i);
            }
        }
        for o in &g.outputs {
            *uses.entry(o.name.as_str()).or_insert(0) += 1;
        }
        let mut p = Planner {
            consts,
            values: HashMap::new(),
            dims: Vec::new(),
            uses,
            reader,
            producer,
            nodes: &g.nodes,
            done: vec![false; g.nodes.len()],
            steps: Vec::new(),
        };
        let mut inputs = g.inputs.iter().filter(|v| !p.consts.contains_key(&*v.name));
        let (Some(input), None) = (inputs.next(), inputs.next()) else {
            return Err(err("expected exactly one graph input"));
        };
        let dims = input
            .dims
            .iter()
            .map(|d| d.filter(|&d| d > 0))
            .collect::<Option<Vec<usize>>>()
            .filter(|d| !d.is_empty())
            .ok_or_else(|| err("the input's shape is not fixed"))?;
        if input.elem_type != 1 {
            return Err(err("the input is not float"));
        }
        let input_id = p.define(&input.name, dims)?;
        for i in 0..g.nodes.len() {
            if !p.done[i] {
                p.done[i] = true;
                p.node(i)?;
            }
        }
        let mut outputs = Vec::new();
        for o in &g.outputs {
            let v = p.value(&o.name)?;
            let declared: Vec<Option<usize>> = p.dims[v].iter().map(|&d| Some(d)).collect();
            if !o.dims.is_empty() && o.dims != declared {
                return Err(err(format!(
                    "output {}: inferred shape {:?} differs from the declared one",
                    o.name, p.dims[v]
                )));
            }
            outputs.push((o.name.clone(), v));
        }

        // Buffers: a value's buffer is free again after the last step reading it; outputs and
        // the input keep theirs.
        let nv = p.dims.len();
        let mut last = vec![None; nv];
        for (s, step) in p.steps.iter().enumerate() {
            for &v in step.inputs.iter().chain(step.res.iter().map(|(v, _)| v)) {
                last[v] = Some(s);
            }
        }
        for &(_, v) in &outputs {
            last[v] = Some(usize::MAX);
        }
        last[input_id] = Some(usize::MAX);
        let size = |v: usize| p.dims[v].iter().product::<usize>();
        let mut buf_of = vec![usize::MAX; nv];
        let mut sizes = vec![size(input_id)];
        buf_of[input_id] = 0;
        let mut free: Vec<usize> = Vec::new();
        for (s, step) in p.steps.iter().enumerate() {
            let b = free.pop().unwrap_or_else(|| {
                sizes.push(0);
                sizes.len() - 1
            });
            sizes[b] = sizes[b].max(size(step.out));
            buf_of[step.out] = b;
            if last[step.out].is_none() {
                // Never read (a dead branch): still computed, buffer reusable.
                free.push(b);
            }
            let mut read: Vec<usize> = step.inputs.clone();
            read.extend(step.res.map(|(v, _)| v));
            read.sort_unstable();
            read.dedup();
            for v in read {
                if last[v] == Some(s) {
                    free.push(buf_of[v]);
                }
            }
        }
        let mut scratch = 0;
        let mut max_k = 0;
        for step in &p.steps {
            match &step.op {
                Op::Gemm { offs, .. } => max_k = max_k.max(offs.len()),
                Op::Conv { geom, offs, .. } => {
                    scratch = scratch.max(geom.c * geom.padded_len());
                    max_k = max_k.max(offs.len());
                }
                Op::Depthwise { geom, .. } => {
                    scratch = scratch.max(kernels::depthwise_scratch(geom))
                }
                _ => {}
            }
        }
        Ok(Net {
            steps: p.steps,
            buf_of,
            bufs: sizes.into_iter().map(|n| vec![0.0; n]).collect(),
            dims: p.dims,
            input: input_id,
            outputs,
            scratch: vec![0.0; scratch],
            panel: vec![0.0; max_k * kernels::NC],
        })
    }

    /// The input's dimensions.
    pub fn input_dims(&self) -> &[usize] {
        &self.dims[self.input]
    }

    /// Dimensions of a graph output, by name.
    pub fn output_dims(&self, name: &str) -> Option<&[usize]> {
        self.outputs
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, v)| &self.dims[v][..])
    }

    /// The data of a graph output (after [`Net::run`]).
    pub fn output(&self, name: &str) -> Option<&[f32]> {
        let &(_, v) = self.outputs.iter().find(|(n, _)| n == name)?;
        let n: usize = self.dims[v].iter().product();
        Some(&self.bufs[self.buf_of[v]][..n])
    }

    /// Runs the plan on `input` (the input's element count).
    pub fn run(&mut self, input: &[f32]) -> Result<(), FaceError> {
        let n: usize = self.dims[self.input].iter().product();
        if input.len() != n {
            return Err(FaceError::Run(format!(
                "input has {} values, the model takes {n}",
                input.len()
            )));
        }
        self.bufs[self.buf_of[self.input]][..n].copy_from_slice(input);
        for s in 0..self.steps.len() {
            self.run_step(s);
        }
        Ok(())
    }

    fn run_step(&mut self, s: usize) {
        {
            let step = &self.steps[s];
            let ob = self.buf_of[step.out];
            let mut out = std::mem::take(&mut self.bufs[ob]);
            let size: usize = self.dims[step.out].iter().product();
            let bufs = &self.bufs;
            let input = |i: usize| {
                let v = step.inputs[i];
                let n: usize = self.dims[v].iter().product();
                &bufs[self.buf_of[v]][..n]
            };
            let ep = Epilogue {
                res: step.res.map(|(v, c)| (&bufs[self.buf_of[v]][..], c)),
                relu: step.relu,
            };
            let o = &mut out[..size];
            match &step.op {
                Op::Gemm {
                    packed,
                    bias,
                    offs,
                    n,
                } => {
                    kernels::gemm_rows(
                        packed,
                        bias,
                        offs,
                        input(0),
                        *n,
                        o,
                        *n,
                        0,
                        ep,
                        &mut self.panel,
                    );
                }
                Op::Conv {
                    packed,
                    bias,
                    offs,
                    geom,
                } => kernels::conv(
                    packed,
                    bias,
                    offs,
                    geom,
                    input(0),
                    o,
                    &mut self.scratch,
                    &mut self.panel,
                    ep,
                ),
                Op::Depthwise { w, bias, geom } => {
                    kernels::depthwise(w, bias, geom, input(0), o, &mut self.scratch, ep)
                }
                Op::MaxPool(g) => kernels::max_pool(g, input(0), o),
                Op::PadTail(extra) => {
                    let x = input(0);
                    o[..x.len()].copy_from_slice(x);
                    o[x.len()..x.len() + extra].fill(0.0);
                }
                Op::Add => {
                    for ((d, a), b) in o.iter_mut().zip(input(0)).zip(input(1)) {
                        *d = a + b;
                    }
                }
                Op::Relu => {
                    for (d, a) in o.iter_mut().zip(input(0)) {
                        *d = a.max(0.0);
                    }
                }
                Op::Transpose { dims, perm } => kernels::transpose4(input(0), *dims, *perm, o),
                Op::Copy => o.copy_from_slice(input(0)),
                Op::Concat => {
                    let mut at = 0;
                    for i in 0..step.inputs.len() {
                        let x = input(i);
                        o[at..at + x.len()].copy_from_slice(x);
                        at += x.len();
                    }
                }
            }
            self.bufs[ob] = out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx::Attribute;

    fn model() -> onnx::Model {
        onnx::parse_model(crate::MODEL).expect("parses")
    }

    fn refused(m: &onnx::Model, what: &str) {
        match Net::from_model(m) {
            Err(FaceError::Model(e)) => assert!(e.contains(what), "{e}"),
            Err(e) => panic!("wrong error {e}"),
            Ok(_) => panic!("accepted a model with {what}"),
        }
    }

    fn node<'a>(m: &'a mut onnx::Model, op: &str, nth: usize) -> &'a mut Node {
        m.graph
            .nodes
            .iter_mut()
            .filter(|n| n.op_type == op)
            .nth(nth)
            .expect("node")
    }

    #[test]
    fn plans_the_model() {
        let net = Net::from_model(&model()).expect("plans");
        assert_eq!(net.input_dims(), [1, 3, 128, 128]);
        assert_eq!(net.output_dims("regressors"), Some(&[1, 896, 16][..]));
        // 37 convolutions (the residual Add, channel Pad and Relu fused into them), 3 pools,
        // and the heads' 4 Transpose, 4 Reshape, 2 Concat.
        assert_eq!(net.steps.len(), 37 + 3 + 10);
    }

    #[test]
    fn refuses_an_unknown_operator() {
        let mut m = model();
        node(&mut m, "Relu", 3).op_type = "Sigmoid".into();
        refused(&m, "operator Sigmoid is not supported");
    }

    #[test]
    fn refuses_unexpected_attributes() {
        let mut m = model();
        node(&mut m, "Conv", 2).attributes.push(Attribute {
            name: "foo".into(),
            value: AttrValue::Int(1),
        });
        refused(&m, "unsupported attribute foo");
        let mut m = model();
        for a in &mut node(&mut m, "Conv", 1).attributes {
            if a.name == "dilations" {
                a.value = AttrValue::Ints(vec![2, 2]);
            }
        }
        refused(&m, "dilation");
        let mut m = model();
        for a in &mut node(&mut m, "MaxPool", 0).attributes {
            if a.name == "kernel_shape" {
                a.value = AttrValue::Ints(vec![3, 3]);
            }
        }
        refused(&m, "MaxPool");
    }

    #[test]
    fn refuses_shape_mismatches() {
        // A bias of the wrong length.
        let mut m = model();
        let bias = node(&mut m, "Conv", 3).inputs[2].clone();
        let t = m
            .graph
            .initializers
            .iter_mut()
            .find(|t| t.name == bias)
            .expect("bias");
        t.dims = vec![1, t.dims[0]];
        refused(&m, "bias");
        // A channel Pad that pads the height instead.
        let mut m = model();
        let pads = node(&mut m, "Pad", 0).inputs[1].clone();
        let t = m
            .graph
            .initializers
            .iter_mut()
            .find(|t| t.name == pads)
            .expect("pads");
        t.data = TensorData::I64(vec![0, 0, 0, 0, 0, 0, 4, 0]);
        refused(&m, "Pad");
        // Add of tensors of different shapes (the first residual's skip branch replaced by the
        // network input).
        let mut m = model();
        node(&mut m, "Add", 0).inputs[0] = "input".into();
        refused(&m, "Add");
        // An output declared with another shape.
        let mut m = model();
        m.graph.outputs[0].dims[1] = Some(895);
        refused(&m, "differs from the declared one");
    }
}

/// Time per step kind, natively: `cargo test --release -p liveform-face --lib net_profile --
/// --ignored --nocapture`.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod profile {
    use super::*;
    use std::time::Instant;

    #[test]
    #[ignore = "profiling aid"]
    fn net_profile() {
        let mut net = Net::from_onnx(crate::MODEL).expect("plans");
        let input = vec![0.25f32; 3 * 128 * 128];
        let runs = 100;
        let mut per = vec![0f64; net.steps.len()];
        for _ in 0..runs {
            net.run(&input).expect("runs");
        }
        let t0 = Instant::now();
        for _ in 0..runs {
            for (s, time) in per.iter_mut().enumerate() {
                let t = Instant::now();
                net.run_step(s);
                *time += t.elapsed().as_secs_f64();
            }
        }
        let total = t0.elapsed().as_secs_f64() * 1e3 / runs as f64;
        let mut kinds: Vec<(String, f64)> = Vec::new();
        for (s, step) in net.steps.iter().enumerate() {
            let name = match &step.op {
                Op::Gemm { offs, n, .. } => format!("gemm1x1 k{} n{n}", offs.len()),
                Op::Conv { .. } => "conv".into(),
                Op::Depthwise { geom, .. } => format!("dw s{} {}x{}", geom.sw, geom.h, geom.w),
                Op::MaxPool(_) => "maxpool".into(),
                _ => "other".into(),
            };
            let ms = per[s] * 1e3 / runs as f64;
            match kinds.iter_mut().find(|(n, _)| *n == name) {
                Some(k) => k.1 += ms,
                None => kinds.push((name, ms)),
            }
        }
        for (n, ms) in &kinds {
            println!("{ms:8.3} ms  {n}");
        }
        println!("total {total:.3} ms per run");
    }
}
