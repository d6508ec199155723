//! The datasets Astute knows: their names on the command line, image shapes, classes,
//! the paper's ε, the default network, and the official files with where they go.

use super::synthetic::{SPIRAL_CLASSES, SPIRAL_SHAPE};
use super::{ImageShape, cifar, image_folder, svhn};
use astute_api::Architecture;
pub use astute_api::DatasetId;

/// What the core knows about each dataset: [`DatasetInfo`] by id.
pub trait Catalog {
    fn info(self) -> &'static DatasetInfo;
}

impl Catalog for DatasetId {
    fn info(self) -> &'static DatasetInfo {
        match self {
            Self::Mnist => &MNIST,
            Self::MnistSample => &MNIST_SAMPLE,
            Self::FashionMnist => &FASHION_MNIST,
            Self::Cifar10 => &CIFAR10,
            Self::Svhn => &SVHN,
            Self::RestrictedImagenet => &RESTRICTED_IMAGENET,
            Self::Spiral => &SPIRAL,
        }
    }
}

/// What Astute knows about a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetInfo {
    pub id: DatasetId,
    pub title: &'static str,
    pub shape: ImageShape,
    pub class_names: &'static [&'static str],
    /// Training and test images of the official release (the default spiral's points):
    /// what a run's cost is estimated from before the data is loaded.
    pub images: [usize; 2],
    /// The paper's ℓ∞ radius in pixel units of [0, 1].
    pub epsilon: f32,
    pub architecture: Architecture,
    /// The official downloads (empty for generated data).
    pub files: &'static [OfficialFile],
    /// Where the files go, for messages and `astute datasets`.
    pub instructions: &'static str,
}

/// One file as its publisher distributes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfficialFile {
    pub name: &'static str,
    /// Official download address (`None` for files shipped with Astute).
    pub url: Option<&'static str>,
    /// Lower-case hex SHA-256 of the file as downloaded, where known for certain.
    pub sha256: Option<&'static str>,
    /// Lower-case hex MD5, where the publisher or torchvision gives only that.
    pub md5: Option<&'static str>,
}

const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];
const MNIST_SHAPE: ImageShape = ImageShape::new(1, 28, 28);
const RESTRICTED_IMAGENET_CLASSES: [&str; 9] = {
    let mut names = [""; 9];
    let mut i = 0;
    while i < 9 {
        names[i] = image_folder::RESTRICTED_CLASSES[i].0;
        i += 1;
    }
    names
};

const fn file(
    name: &'static str,
    url: &'static str,
    sha256: Option<&'static str>,
    md5: &'static str,
) -> OfficialFile {
    OfficialFile {
        name,
        url: Some(url),
        sha256,
        md5: Some(md5),
    }
}

static MNIST: DatasetInfo = DatasetInfo {
    id: DatasetId::Mnist,
    title: "MNIST handwritten digits",
    shape: MNIST_SHAPE,
    class_names: &DIGITS,
    images: [60_000, 10_000],
    epsilon: 0.1,
    architecture: Architecture::Cnn2,
    files: &[
        file(
            "train-images-idx3-ubyte.gz",
            "http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz",
            Some("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        ),
        file(
            "train-labels-idx1-ubyte.gz",
            "http://yann.lecun.com/exdb/mnist/train-labels-idx1-ubyte.gz",
            Some("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
            "d53e105ee54ea40749a09fcbcd1e9432",
        ),
        file(
            "t10k-images-idx3-ubyte.gz",
            "http://yann.lecun.com/exdb/mnist/t10k-images-idx3-ubyte.gz",
            Some("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
            "9fb629c4189551a2d022fa330f9573f3",
        ),
        file(
            "t10k-labels-idx1-ubyte.gz",
            "http://yann.lecun.com/exdb/mnist/t10k-labels-idx1-ubyte.gz",
            Some("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
            "ec29112dd5afa0611ce80d1b7f02629c",
        ),
    ],
    instructions: "put the four IDX files (gzipped or not) in <data-dir>/mnist/",
};

static MNIST_SAMPLE: DatasetInfo = DatasetInfo {
    id: DatasetId::MnistSample,
    title: "MNIST sample (10,000 digits, every 5th of a class for test)",
    shape: MNIST_SHAPE,
    class_names: &DIGITS,
    images: [8_000, 2_000],
    epsilon: 0.1,
    architecture: Architecture::Cnn2,
    files: &[
        OfficialFile {
            name: "train-images-idx3-ubyte.gz",
            url: None,
            sha256: Some("8abcb2a8c7b59e8b56d758f16f76809aab798643d181edcd956540a55c3ecd67"),
            md5: None,
        },
        OfficialFile {
            name: "train-labels-idx1-ubyte.gz",
            url: None,
            sha256: Some("222429b264e4514cac041a76faf14d55c0cdb6c11ee5d6b7ba92e2f4cdf59563"),
            md5: None,
        },
        OfficialFile {
            name: "t10k-images-idx3-ubyte.gz",
            url: None,
            sha256: Some("ba62dd300dc7d72d4be2aa3de495ca65e54331135a5e0dffdb3e7fcbc2983b90"),
            md5: None,
        },
        OfficialFile {
            name: "t10k-labels-idx1-ubyte.gz",
            url: None,
            sha256: Some("a8e7677b6a2f012c7f429f933ccf5822eaf9a8e52c2491625535c433591ed35b"),
            md5: None,
        },
    ],
    instructions: "shipped with Astute in data/mnist-sample/ and found there by default; elsewhere, point \
                   --data-dir (or ASTUTE_DATA_DIR) at a folder that contains mnist-sample/",
};

static FASHION_MNIST: DatasetInfo = DatasetInfo {
    id: DatasetId::FashionMnist,
    title: "Fashion-MNIST",
    shape: MNIST_SHAPE,
    class_names: &FASHION_CLASSES,
    images: [60_000, 10_000],
    epsilon: 0.1,
    architecture: Architecture::Cnn2,
    files: &[
        file(
            "train-images-idx3-ubyte.gz",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz",
            Some("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        ),
        file(
            "train-labels-idx1-ubyte.gz",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-labels-idx1-ubyte.gz",
            Some("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
            "25c81989df183df01b3e8a0aad5dffbe",
        ),
        file(
            "t10k-images-idx3-ubyte.gz",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-images-idx3-ubyte.gz",
            Some("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
            "bef4ecab320f06d8554ea6380940ec79",
        ),
        file(
            "t10k-labels-idx1-ubyte.gz",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-labels-idx1-ubyte.gz",
            Some("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
            "bb300cfdad3c16e7a12a480ee83cd310",
        ),
    ],
    instructions: "on Debian/Ubuntu `apt-get install dataset-fashion-mnist` (installs /usr/share/datasets/fashion-mnist/); \
                   otherwise put the four IDX files in <data-dir>/fashion-mnist/",
};

static CIFAR10: DatasetInfo = DatasetInfo {
    id: DatasetId::Cifar10,
    title: "CIFAR-10",
    shape: cifar::SHAPE,
    class_names: &cifar::CLASS_NAMES,
    images: [50_000, 10_000],
    epsilon: 0.031,
    architecture: Architecture::WRN_CPU,
    files: &[file(
        "cifar-10-binary.tar.gz",
        "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
        Some("c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"),
        "c32a1d4ab5d03f1284b67883e8d87530",
    )],
    instructions: "unpack the binary version in <data-dir>/cifar10/ (`tar xzf cifar-10-binary.tar.gz -C <data-dir>/cifar10`), \
                   giving data_batch_1.bin … data_batch_5.bin and test_batch.bin in cifar-10-batches-bin/",
};

static SVHN: DatasetInfo = DatasetInfo {
    id: DatasetId::Svhn,
    title: "SVHN cropped digits",
    shape: ImageShape::new(3, 32, 32),
    class_names: &svhn::CLASS_NAMES,
    images: [73_257, 26_032],
    epsilon: 0.031,
    architecture: Architecture::WRN_CPU,
    files: &[
        file(
            svhn::TRAIN_FILE,
            "http://ufldl.stanford.edu/housenumbers/train_32x32.mat",
            None,
            "e26dedcc434d2e4c54c9b2d4a06d8373",
        ),
        file(
            svhn::TEST_FILE,
            "http://ufldl.stanford.edu/housenumbers/test_32x32.mat",
            None,
            "eb5a983be6a315427106f1b164d9cef3",
        ),
    ],
    instructions: "put train_32x32.mat and test_32x32.mat (format 2, cropped digits) in <data-dir>/svhn/",
};

static RESTRICTED_IMAGENET: DatasetInfo = DatasetInfo {
    id: DatasetId::RestrictedImagenet,
    title: "Restricted ImageNet (9 super-classes, 64×64)",
    shape: ImageShape::new(
        3,
        image_folder::DEFAULT_SIZE as usize,
        image_folder::DEFAULT_SIZE as usize,
    ),
    class_names: &RESTRICTED_IMAGENET_CLASSES,
    images: [257_748, 10_150],
    epsilon: 0.005,
    architecture: Architecture::ResNet50,
    files: &[OfficialFile {
        name: "ILSVRC2012 train and validation images",
        url: Some("https://image-net.org/download-images.php"),
        sha256: None,
        md5: None,
    }],
    instructions: "put the ImageNet tree in <data-dir>/restricted-imagenet/ as train/<wnid>/*.JPEG and val/<wnid>/*.JPEG \
                   (validation images sorted into class folders); with fewer than the 1,000 class folders, add \
                   LOC_synset_mapping.txt (one wnid per line in class-index order) next to train/",
};

static SPIRAL: DatasetInfo = DatasetInfo {
    id: DatasetId::Spiral,
    title: "Two interleaved 2-D spirals",
    shape: SPIRAL_SHAPE,
    class_names: &SPIRAL_CLASSES,
    // Below the default spiral's separation r = 15/510 ≈ 0.029, so the paper's condition ε < r holds.
    images: [500, 500],
    epsilon: 0.02,
    architecture: Architecture::MLP_DEFAULT,
    files: &[],
    instructions: "generated, nothing to download",
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synthetic::SpiralConfig;

    #[test]
    fn ids_round_trip() {
        for id in DatasetId::all() {
            assert_eq!(id.to_string().parse::<DatasetId>().unwrap(), id);
            assert_eq!(id.info().id, id);
            assert_eq!(
                id.info().class_names.len(),
                if id == DatasetId::Spiral {
                    2
                } else if id == DatasetId::RestrictedImagenet {
                    9
                } else {
                    10
                }
            );
        }
        assert_eq!(
            "mnist-subset".parse::<DatasetId>().unwrap(),
            DatasetId::MnistSample
        );
        assert!(
            "mnist2"
                .parse::<DatasetId>()
                .unwrap_err()
                .to_string()
                .contains("fashion-mnist")
        );
    }

    #[test]
    fn epsilons_match_the_paper() {
        assert_eq!(DatasetId::FashionMnist.info().epsilon, 0.1);
        assert_eq!(DatasetId::Svhn.info().epsilon, 0.031);
        assert_eq!(DatasetId::RestrictedImagenet.info().epsilon, 0.005);
        assert_eq!(RESTRICTED_IMAGENET_CLASSES[8], "insect");
        let spiral = SpiralConfig::default().generate().unwrap();
        assert!(
            DatasetId::Spiral.info().epsilon < spiral.r,
            "r = {}",
            spiral.r
        );
    }

    #[test]
    fn hashes_are_hex() {
        for id in DatasetId::all() {
            for f in id.info().files {
                assert!(
                    f.sha256
                        .is_none_or(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                );
                assert!(
                    f.md5
                        .is_none_or(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                );
            }
        }
    }
}
