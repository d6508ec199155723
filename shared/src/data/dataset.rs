//! The in-memory dataset every loader produces and every consumer reads.

use super::DataError;

/// Channels × height × width of one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ImageShape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl ImageShape {
    pub const fn new(channels: usize, height: usize, width: usize) -> Self {
        Self {
            channels,
            height,
            width,
        }
    }

    /// Bytes (pixels × channels) in one image.
    pub const fn len(&self) -> usize {
        self.channels * self.height * self.width
    }

    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Labelled images kept as `u8` in NCHW order: the exact pixels of the official files,
/// 4× smaller than `f32` and exact for ℓ∞ distances. Models see them as `f32` in [0, 1],
/// converted one batch at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    shape: ImageShape,
    images: Vec<u8>,
    labels: Vec<u16>,
    class_names: Vec<String>,
}

impl Dataset {
    /// Checks that the pieces fit together: `images` holds exactly one image per label and
    /// every label names a class.
    pub fn new(
        shape: ImageShape,
        images: Vec<u8>,
        labels: Vec<u16>,
        class_names: Vec<String>,
    ) -> Result<Self, DataError> {
        if shape.is_empty() {
            return Err(DataError::Invalid(format!(
                "image shape {shape:?} has no pixels"
            )));
        }
        if images.len() != labels.len() * shape.len() {
            return Err(DataError::Invalid(format!(
                "{} image bytes do not make {} images of {}×{}×{}",
                images.len(),
                labels.len(),
                shape.channels,
                shape.height,
                shape.width
            )));
        }
        if let Some(&bad) = labels
            .iter()
            .find(|&&l| usize::from(l) >= class_names.len())
        {
            return Err(DataError::Invalid(format!(
                "label {bad} is out of range for {} classes",
                class_names.len()
            )));
        }
        Ok(Self {
            shape,
            images,
            labels,
            class_names,
        })
    }

    pub fn shape(&self) -> ImageShape {
        self.shape
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// All images, NCHW, one after another.
    pub fn images(&self) -> &[u8] {
        &self.images
    }

    pub fn labels(&self) -> &[u16] {
        &self.labels
    }

    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// The pixels of image `index`.
    pub fn image(&self, index: usize) -> &[u8] {
        let d = self.shape.len();
        &self.images[index * d..(index + 1) * d]
    }

    /// How many images each class has.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes()];
        for &l in &self.labels {
            counts[usize::from(l)] += 1;
        }
        counts
    }

    /// A new dataset with the images at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Result<Self, DataError> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(DataError::Invalid(format!(
                "index {bad} is out of range for a dataset of {} images",
                self.len()
            )));
        }
        let mut images = Vec::with_capacity(indices.len() * self.shape.len());
        for &i in indices {
            images.extend_from_slice(self.image(i));
        }
        let labels = indices.iter().map(|&i| self.labels[i]).collect();
        Ok(Self {
            shape: self.shape,
            images,
            labels,
            class_names: self.class_names.clone(),
        })
    }

    /// The first `n` images (all of them when `n` is larger).
    pub fn take(&self, n: usize) -> Self {
        let n = n.min(self.len());
        Self {
            shape: self.shape,
            images: self.images[..n * self.shape.len()].to_vec(),
            labels: self.labels[..n].to_vec(),
            class_names: self.class_names.clone(),
        }
    }

    /// Joins datasets of the same image shape and classes, in order: e.g. CIFAR-10's
    /// five training batches.
    pub fn concat(parts: &[Dataset]) -> Result<Self, DataError> {
        let Some(first) = parts.first() else {
            return Err(DataError::Invalid("no datasets to join".into()));
        };
        if let Some(odd) = parts
            .iter()
            .find(|p| p.shape != first.shape || p.class_names != first.class_names)
        {
            return Err(DataError::Invalid(format!(
                "cannot join datasets of {:?} with {} classes and {:?} with {} classes",
                first.shape,
                first.num_classes(),
                odd.shape,
                odd.num_classes()
            )));
        }
        Ok(Self {
            shape: first.shape,
            images: parts
                .iter()
                .flat_map(|p| p.images.iter().copied())
                .collect(),
            labels: parts
                .iter()
                .flat_map(|p| p.labels.iter().copied())
                .collect(),
            class_names: first.class_names.clone(),
        })
    }

    /// The images at `indices` as `f32` in [0, 1] (NCHW, flattened) with their labels:
    /// what a model consumes.
    pub fn batch_f32(&self, indices: &[usize]) -> (Vec<f32>, Vec<u16>) {
        let mut pixels = Vec::with_capacity(indices.len() * self.shape.len());
        for &i in indices {
            pixels.extend(self.image(i).iter().map(|&p| f32::from(p) / 255.0));
        }
        (pixels, indices.iter().map(|&i| self.labels[i]).collect())
    }
}

/// A dataset's official training and test parts.
#[derive(Debug, Clone)]
pub struct Split {
    pub train: Dataset,
    pub test: Dataset,
}

impl Split {
    /// Pools both parts and splits them again class by class: every `k`-th image of a class
    /// (in pooled order, training part first) goes to test, the rest to training. Both parts
    /// come out with the classes interleaved (first image of each class, then the second,
    /// ...), so any prefix, such as a `--subset` for a quick run, is class-balanced too.
    /// For samples whose shipped split is not stratified.
    pub fn stratified(self, k: usize) -> Result<Split, DataError> {
        if k < 2 {
            return Err(DataError::Invalid(format!(
                "a stratified split needs every k-th image with k ≥ 2, not {k}"
            )));
        }
        let pooled = Dataset::concat(&[self.train, self.test])?;
        let classes = pooled.num_classes();
        let (mut train, mut test) = (vec![Vec::new(); classes], vec![Vec::new(); classes]);
        for (i, &label) in pooled.labels().iter().enumerate() {
            let class = usize::from(label);
            let seen = train[class].len() + test[class].len() + 1;
            let part = if seen % k == 0 { &mut test } else { &mut train };
            part[class].push(i);
        }
        Ok(Split {
            train: pooled.select(&interleave(&train))?,
            test: pooled.select(&interleave(&test))?,
        })
    }
}

/// Round-robin over the lists: the first item of each, then the second of each, ...
fn interleave(lists: &[Vec<usize>]) -> Vec<usize> {
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest)
        .flat_map(|round| {
            lists
                .iter()
                .filter_map(move |list| list.get(round).copied())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stratified_split_takes_every_kth_image_of_each_class() {
        let shape = ImageShape::new(1, 1, 1);
        // Pixel = pooled position, so the result shows which images went where.
        let part = |pixels: Vec<u8>, labels: Vec<u16>| {
            Dataset::new(shape, pixels, labels, names(2)).unwrap()
        };
        let split = Split {
            train: part(vec![0, 1, 2, 3], vec![0, 0, 0, 1]),
            test: part(vec![4, 5, 6], vec![1, 1, 1]),
        }
        .stratified(2)
        .unwrap();
        // Class 0 is images 0, 1, 2 (the 2nd goes to test); class 1 is 3, 4, 5, 6.
        assert_eq!(split.test.images(), [1, 4, 6]);
        assert_eq!(split.test.labels(), [0, 1, 1]);
        // Interleaved: class 0's first, class 1's first, class 0's second, class 1's second.
        assert_eq!(split.train.images(), [0, 3, 2, 5]);
        assert_eq!(split.train.labels(), [0, 1, 0, 1]);
        let again = Split {
            train: split.train.clone(),
            test: split.test.clone(),
        };
        assert!(again.stratified(1).is_err());
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| i.to_string()).collect()
    }

    #[test]
    fn rejects_byte_count_that_does_not_match_labels() {
        let err =
            Dataset::new(ImageShape::new(1, 2, 2), vec![0; 7], vec![0, 1], names(2)).unwrap_err();
        assert!(err.to_string().contains("7 image bytes"), "{err}");
    }

    #[test]
    fn rejects_label_outside_classes() {
        let err =
            Dataset::new(ImageShape::new(1, 1, 1), vec![0, 0], vec![0, 3], names(3)).unwrap_err();
        assert!(err.to_string().contains("label 3"), "{err}");
    }

    #[test]
    fn select_and_batch_keep_pixels_and_labels_together() {
        let ds = Dataset::new(
            ImageShape::new(1, 1, 2),
            vec![0, 255, 10, 20, 30, 51],
            vec![2, 0, 1],
            names(3),
        )
        .unwrap();
        let sub = ds.select(&[2, 0]).unwrap();
        assert_eq!(sub.images(), &[30, 51, 0, 255]);
        assert_eq!(sub.labels(), &[1, 2]);
        let (x, y) = ds.batch_f32(&[0]);
        assert_eq!(x, vec![0.0, 1.0]);
        assert_eq!(y, vec![2]);
        assert_eq!(ds.class_counts(), vec![1, 1, 1]);
        assert!(ds.select(&[3]).is_err());
    }

    #[test]
    fn concat_keeps_order_and_rejects_mismatched_parts() {
        let a = Dataset::new(ImageShape::new(1, 1, 2), vec![1, 2], vec![0], names(2)).unwrap();
        let b = Dataset::new(
            ImageShape::new(1, 1, 2),
            vec![3, 4, 5, 6],
            vec![1, 0],
            names(2),
        )
        .unwrap();
        let ab = Dataset::concat(&[a.clone(), b]).unwrap();
        assert_eq!(ab.images(), &[1, 2, 3, 4, 5, 6]);
        assert_eq!(ab.labels(), &[0, 1, 0]);
        let c = Dataset::new(ImageShape::new(1, 2, 1), vec![1, 2], vec![0], names(2)).unwrap();
        assert!(Dataset::concat(&[a, c]).is_err());
        assert!(Dataset::concat(&[]).is_err());
    }
}
