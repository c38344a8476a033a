//! The database file as the server opened it: where it is and which file it is (device and
//! inode), checked before every commit and by readiness, so that a write into a file that was
//! deleted, replaced or made read-only is refused instead of acknowledged and lost.

use std::{
    fs::Metadata,
    io,
    path::{Path, PathBuf},
};

use crate::ports::StorageError;

/// The path and identity of an opened database file. Cheap to clone (one path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseFile {
    path: PathBuf,
    identity: Identity,
}

/// Device and inode: a file deleted and recreated, or moved over, has another.
type Identity = (u64, u64);

impl DatabaseFile {
    /// The file at `path` as it is now (it must exist).
    pub fn of(path: &Path) -> Result<DatabaseFile, StorageError> {
        let metadata = std::fs::metadata(path)
            .map_err(|e| StorageError(format!("cannot read {}: {e}", path.display())))?;
        Ok(DatabaseFile {
            path: path.to_path_buf(),
            identity: identity(&metadata),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the path still names this file and the server may write it; the error says what
    /// is wrong in a sentence for the operator.
    ///
    /// Never opens the file: closing any descriptor of a SQLite database in this process would
    /// drop the POSIX locks SQLite holds on it.
    pub fn check(&self) -> Result<(), StorageError> {
        let shown = self.path.display();
        let metadata = match std::fs::metadata(&self.path) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StorageError(format!(
                    "the database file {shown} is gone (deleted or moved) since the server opened it; \
                     restore it and restart the server"
                )));
            }
            Err(e) => return Err(StorageError(format!("cannot read {shown}: {e}"))),
        };
        if identity(&metadata) != self.identity {
            return Err(StorageError(format!(
                "the database file {shown} was replaced by another file since the server opened it; \
                 restart the server to use the new one"
            )));
        }
        writable(&self.path, &metadata)
            .map_err(|e| StorageError(format!("the database file {shown} is read-only ({e})")))
    }
}

#[cfg(unix)]
fn identity(metadata: &Metadata) -> Identity {
    use std::os::unix::fs::MetadataExt;
    (metadata.dev(), metadata.ino())
}

/// Without inodes, only presence and permissions are checked.
#[cfg(not(unix))]
fn identity(_metadata: &Metadata) -> Identity {
    (0, 0)
}

/// access(2) answers for this process: permissions (root passes them) and a read-only mount
/// (which even root does not).
#[cfg(unix)]
fn writable(path: &Path, _metadata: &Metadata) -> io::Result<()> {
    rustix::fs::access(path, rustix::fs::Access::WRITE_OK).map_err(io::Error::from)
}

#[cfg(not(unix))]
fn writable(_path: &Path, metadata: &Metadata) -> io::Result<()> {
    if metadata.permissions().readonly() {
        return Err(io::Error::from(io::ErrorKind::PermissionDenied));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_or_replaced_file_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("food.db");
        std::fs::write(&path, b"one").unwrap();
        let file = DatabaseFile::of(&path).unwrap();
        assert!(file.check().is_ok());

        // Rewritten in place (`cp` over it): the same file.
        std::fs::write(&path, b"two").unwrap();
        assert!(file.check().is_ok());

        let moved = dir.path().join("moved.db");
        std::fs::rename(&path, &moved).unwrap();
        let gone = file.check().unwrap_err().to_string();
        assert!(gone.contains("is gone"), "{gone}");

        // Another file under the same name, while the first still exists (so it cannot reuse
        // the inode).
        std::fs::write(&path, b"three").unwrap();
        let replaced = file.check().unwrap_err().to_string();
        assert!(replaced.contains("was replaced"), "{replaced}");
    }
}
