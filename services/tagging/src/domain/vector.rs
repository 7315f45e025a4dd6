//! Embedding arithmetic: dot products (cosine on L2-normalised vectors), normalising,
//! and the stored byte form.

/// Lanes summed independently so the compiler keeps them in SIMD registers (a single
/// float accumulator would force sequential adds).
const LANES: usize = 8;

/// The dot product of two equally long vectors: their cosine when both are normalised.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut sums = [0.0f32; LANES];
    let chunks_a = a.chunks_exact(LANES);
    let chunks_b = b.chunks_exact(LANES);
    let tail: f32 = chunks_a
        .remainder()
        .iter()
        .zip(chunks_b.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in chunks_a.zip(chunks_b) {
        for lane in 0..LANES {
            sums[lane] += x[lane] * y[lane];
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// Scales `v` to length 1 (a zero vector stays zero).
pub fn normalise(v: &mut [f32]) {
    let norm = dot(v, v).sqrt();
    if norm > f32::EPSILON {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// The weighted sum of `vectors`, normalised; `None` when there are none.
pub fn weighted_mean<'a>(
    vectors: impl IntoIterator<Item = (&'a [f32], f32)>,
    dim: usize,
) -> Option<Vec<f32>> {
    let mut sum = vec![0.0f32; dim];
    let mut any = false;
    for (vector, weight) in vectors {
        if vector.len() != dim {
            continue;
        }
        any = true;
        sum.iter_mut()
            .zip(vector)
            .for_each(|(s, x)| *s += x * weight);
    }
    any.then(|| {
        normalise(&mut sum);
        sum
    })
}

/// The stored form: little-endian f32s.
pub fn to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Reads the stored form; `None` unless it holds exactly `dim` floats.
pub fn from_bytes(bytes: &[u8], dim: usize) -> Option<Vec<f32>> {
    if bytes.len() != dim * 4 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_the_plain_sum_for_any_length() {
        for len in [0, 1, 7, 8, 9, 384, 385] {
            let a: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - plain).abs() < 1e-4, "len {len}");
        }
    }

    #[test]
    fn normalised_vectors_have_unit_length_and_round_trip_through_bytes() {
        let mut v = vec![3.0, 4.0, 0.0];
        normalise(&mut v);
        assert!((dot(&v, &v) - 1.0).abs() < 1e-6);
        assert_eq!(from_bytes(&to_bytes(&v), 3), Some(v.clone()));
        assert_eq!(from_bytes(&to_bytes(&v), 4), None);
        let mut zero = vec![0.0; 4];
        normalise(&mut zero);
        assert_eq!(zero, vec![0.0; 4]);
    }

    #[test]
    fn weighted_mean_leans_to_the_heavier_vector() {
        let a = [1.0, 0.0];
        let b = [0.0, 1.0];
        let mean = weighted_mean([(&a[..], 3.0), (&b[..], 1.0)], 2).unwrap();
        assert!(mean[0] > mean[1]);
        assert!(weighted_mean(std::iter::empty(), 2).is_none());
    }
}
