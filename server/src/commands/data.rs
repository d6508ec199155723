//! `astute data fetch`: download a dataset's official files and check them, or say exactly
//! which files to put where when there is no network.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use astute::data::{Catalog, DatasetId, OfficialFile};
use md5::Md5;
use sha2::{Digest, Sha256};

use super::data_dirs::DataArgs;
use crate::store::hex;

#[derive(Debug, clap::Subcommand)]
pub enum DataCommand {
    /// Download a dataset's official files into <data-dir>/<dataset>/, checking their checksums.
    Fetch(FetchArgs),
}

#[derive(Debug, clap::Args)]
pub struct FetchArgs {
    dataset: DatasetId,
    #[command(flatten)]
    data: DataArgs,
}

pub fn run(command: DataCommand) -> anyhow::Result<()> {
    match command {
        DataCommand::Fetch(args) => fetch(args),
    }
}

/// Where downloads go: `--data-dir`, else the first `$ASTUTE_DATA_DIR` entry, else
/// `~/.local/share/astute/data` (the system folder is the package manager's).
fn download_root(args: &DataArgs) -> anyhow::Result<PathBuf> {
    if let Some(dir) = &args.data_dir {
        return Ok(dir.clone());
    }
    if let Some(first) = std::env::var_os(astute::data::locate::DATA_DIR_ENV)
        .and_then(|v| std::env::split_paths(&v).find(|p| !p.as_os_str().is_empty()))
    {
        return Ok(first);
    }
    let home = std::env::var_os("HOME")
        .context("no --data-dir, no $ASTUTE_DATA_DIR and no $HOME: say where to put the data")?;
    Ok(Path::new(&home).join(".local/share/astute/data"))
}

fn fetch(args: FetchArgs) -> anyhow::Result<()> {
    let info = args.dataset.info();
    if let Ok(found) = args.data.dirs().locate(args.dataset) {
        println!("{} is already here: {}", args.dataset, found.display());
        return Ok(());
    }
    let downloadable: Vec<&OfficialFile> = info
        .files
        .iter()
        .filter(|f| f.url.is_some() && (f.sha256.is_some() || f.md5.is_some()))
        .collect();
    if info.files.is_empty() {
        println!("{} is generated; nothing to fetch", args.dataset);
        return Ok(());
    }
    if downloadable.len() != info.files.len() {
        bail!(
            "{} cannot be downloaded automatically: {}",
            args.dataset,
            info.instructions
        );
    }
    let folder = download_root(&args.data)?.join(args.dataset.id());
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    for file in downloadable {
        let url = file.url.expect("filtered above");
        let target = folder.join(file.name);
        eprintln!("downloading {url}");
        let bytes = match download(url) {
            Ok(bytes) => bytes,
            Err(err) => bail!(
                "could not download {url} ({err:#}).\nWithout network access: {}\nSearched: {}",
                info.instructions,
                args.data
                    .dirs()
                    .dirs()
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        verify(file, &bytes)?;
        write_atomically(&target, &bytes)?;
        if file.name.ends_with(".tar.gz") {
            let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
            archive
                .unpack(&folder)
                .with_context(|| format!("unpacking {}", target.display()))?;
        }
        println!(
            "{} ✓ {}",
            target.display(),
            if file.sha256.is_some() {
                "SHA-256"
            } else {
                "MD5"
            }
        );
    }
    Ok(())
}

fn download(url: &str) -> anyhow::Result<Vec<u8>> {
    let response = ureq::get(url).call()?;
    let mut bytes = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(4 << 30)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Checks the SHA-256 where it is known, else the publisher's MD5.
fn verify(file: &OfficialFile, bytes: &[u8]) -> anyhow::Result<()> {
    let (kind, expected, actual) = match (file.sha256, file.md5) {
        (Some(sha), _) => ("SHA-256", sha, hex(&Sha256::digest(bytes))),
        (None, Some(md5)) => ("MD5", md5, hex(&Md5::digest(bytes))),
        (None, None) => bail!("{}: no checksum known, refusing to trust it", file.name),
    };
    if actual != expected {
        bail!(
            "{}: {kind} is {actual}, expected {expected}; the download is corrupt or not the official file",
            file.name
        );
    }
    Ok(())
}

fn write_atomically(target: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let partial = target.with_extension("partial");
    std::fs::write(&partial, bytes).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, target).with_context(|| format!("writing {}", target.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_are_checked_against_hand_computed_digests() {
        // SHA-256 and MD5 of "abc" (FIPS 180-2 and RFC 1321 test vectors).
        let sha = OfficialFile {
            name: "abc",
            url: None,
            sha256: Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            md5: None,
        };
        assert!(verify(&sha, b"abc").is_ok());
        assert!(
            verify(&sha, b"abd")
                .unwrap_err()
                .to_string()
                .contains("expected ba7816bf")
        );
        let md5 = OfficialFile {
            sha256: None,
            md5: Some("900150983cd24fb0d6963f7d28e17f72"),
            ..sha
        };
        assert!(verify(&md5, b"abc").is_ok());
        assert!(verify(&md5, b"").is_err());
    }
}
