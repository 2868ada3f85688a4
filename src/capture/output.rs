//! Files that packetpath writes captures to (`--write`, `--record`): never an existing file unless
//! the user says `--force`, and readable by their owner only, because they hold the TLS session
//! secrets (a Decryption Secrets Block) that decrypt everything in them.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// Why an output file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The file is there already and `--force` was not given.
    #[error(
        "{} already exists; packetpath does not replace files: choose another name, or add --force to replace it",
        .0.display()
    )]
    Exists(PathBuf),
    /// The folder it would go in does not exist.
    #[error("cannot write {}: the folder {} does not exist", path.display(), folder.display())]
    NoFolder {
        /// The file asked for.
        path: PathBuf,
        /// Its missing folder.
        folder: PathBuf,
    },
    /// The operating system refused.
    #[error("cannot create {}: {reason}", path.display())]
    Create {
        /// The file asked for.
        path: PathBuf,
        /// What the system said (not a `source`: the message says it once).
        reason: io::Error,
    },
}

/// A path a capture will be written to, checked before the work starts so that a long capture is
/// not lost to a name that was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPath {
    path: PathBuf,
    replace: bool,
}

impl OutputPath {
    /// Checks that `path` may be written: it must not exist unless `replace` (the `--force`
    /// flag), and its folder must exist.
    pub fn check(path: &Path, replace: bool) -> Result<OutputPath, OutputError> {
        if !replace && path.symlink_metadata().is_ok() {
            return Err(OutputError::Exists(path.to_path_buf()));
        }
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        if !folder.is_dir() {
            return Err(OutputError::NoFolder {
                path: path.to_path_buf(),
                folder: folder.to_path_buf(),
            });
        }
        Ok(OutputPath {
            path: path.to_path_buf(),
            replace,
        })
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates the file, mode 0600. Without `replace` this fails if the file appeared meanwhile
    /// (`O_EXCL`); with it, an existing file is emptied and its mode set to 0600 too.
    pub fn create(&self) -> Result<File, OutputError> {
        let fail = |reason| OutputError::Create {
            path: self.path.clone(),
            reason,
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true);
        if self.replace {
            options.create(true).truncate(true);
        } else {
            options.create_new(true);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            options.mode(0o600);
            let file = options.open(&self.path).map_err(fail)?;
            // A replaced file keeps its old mode through open(); set it.
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(fail)?;
            Ok(file)
        }
        #[cfg(not(unix))]
        {
            options.open(&self.path).map_err(fail)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_file_is_refused_unless_replaced_and_files_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let taken = dir.path().join("notes.txt");
        std::fs::write(&taken, "keep me").unwrap();
        let err = OutputPath::check(&taken, false).unwrap_err();
        assert!(err.to_string().contains("add --force"), "{err}");
        assert_eq!(std::fs::read_to_string(&taken).unwrap(), "keep me");

        let fresh = OutputPath::check(&dir.path().join("new.pcapng"), false).unwrap();
        // Someone takes the name between the check and the write: still not overwritten.
        std::fs::write(fresh.path(), "theirs").unwrap();
        assert!(fresh.create().is_err());
        assert_eq!(std::fs::read_to_string(fresh.path()).unwrap(), "theirs");

        let fresh = OutputPath::check(&dir.path().join("other.pcapng"), false).unwrap();
        drop(fresh.create().unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(fresh.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&taken, std::fs::Permissions::from_mode(0o644)).unwrap();
            let replaced = OutputPath::check(&taken, true).unwrap();
            drop(replaced.create().unwrap());
            let mode = std::fs::metadata(&taken).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            assert_eq!(std::fs::read_to_string(&taken).unwrap(), "");
        }

        let nowhere = OutputPath::check(&dir.path().join("no/such/folder.pcapng"), false);
        assert!(nowhere.unwrap_err().to_string().contains("does not exist"));
    }
}
