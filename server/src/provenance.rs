//! Who made a result and how: the command line as provenance publishes it (what was run,
//! without what is private to the machine that ran it: database addresses and their
//! passwords, data and state folders, home folders), this build's version and commit, and
//! the compute backend.

use astute_api::Provenance;

/// The provenance of a result made by `command` on `backend` by this build.
pub fn provenance(command: String, backend: &str) -> Provenance {
    Provenance {
        command,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        commit: crate::build_commit().to_owned(),
        backend: backend.to_owned(),
    }
}

/// The provenance of a result made by this process on `backend`.
pub fn of_this_process(backend: &str) -> Provenance {
    provenance(public_command(std::env::args()), backend)
}

/// Options whose value is private to the machine.
const PRIVATE_OPTIONS: [&str; 3] = ["--database-url", "--data-dir", "--state-dir"];

/// What replaces a private value.
const HIDDEN: &str = "…";

/// `args` (program first) with the program's folder dropped, private options' values
/// hidden, credentials taken out of addresses and absolute paths cut to their file name.
pub fn public_command(args: impl IntoIterator<Item = String>) -> String {
    let mut args = args.into_iter();
    let program = args.next().map(|p| file_name(&p).to_owned());
    let mut public: Vec<String> = program.into_iter().collect();
    let mut hide_next = false;
    for arg in args {
        if std::mem::take(&mut hide_next) {
            public.push(HIDDEN.to_owned());
            continue;
        }
        if let Some((option, _)) = arg.split_once('=')
            && PRIVATE_OPTIONS.contains(&option)
        {
            public.push(format!("{option}={HIDDEN}"));
        } else if PRIVATE_OPTIONS.contains(&arg.as_str()) {
            hide_next = true;
            public.push(arg);
        } else {
            public.push(public_value(&arg));
        }
    }
    public.join(" ")
}

/// One argument: an address without its credentials, an absolute path as `…/name`.
fn public_value(arg: &str) -> String {
    if let Some((scheme, rest)) = arg.split_once("://")
        && let Some((_, host)) = rest.split_once('@')
    {
        return format!("{scheme}://{HIDDEN}@{host}");
    }
    let (option, value) = arg.split_once('=').unwrap_or(("", arg));
    if value.starts_with('/') || value.starts_with('~') {
        let name = format!("{HIDDEN}/{}", file_name(value));
        return if option.is_empty() {
            name
        } else {
            format!("{option}={name}")
        };
    }
    arg.to_owned()
}

fn file_name(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(line: &str) -> String {
        public_command(line.split(' ').map(str::to_owned))
    }

    #[test]
    fn secrets_and_local_paths_are_left_out() {
        assert_eq!(
            public(
                "/home/alice/astute/target/release/astute serve --database-url postgres://lab:s3cret@db.example/astute --data-dir /home/alice/data --workers 2"
            ),
            "astute serve --database-url … --data-dir … --workers 2"
        );
        assert_eq!(
            public(
                "astute train --state-dir=/srv/astute -d mnist --out /home/alice/runs/w.safetensors"
            ),
            "astute train --state-dir=… -d mnist --out …/w.safetensors"
        );
        assert_eq!(
            public("astute separation --svg=~/fig3.svg --json"),
            "astute separation --svg=…/fig3.svg --json"
        );
        // A credential in any other argument.
        assert_eq!(
            public("astute export --to https://user:pw@example.org/x"),
            "astute export --to https://…@example.org/x"
        );
        // What is not private stays as it was.
        assert_eq!(
            public(
                "astute train -d fashion-mnist -m trades:6 --epochs 5 --out natural.safetensors"
            ),
            "astute train -d fashion-mnist -m trades:6 --epochs 5 --out natural.safetensors"
        );
    }
}
