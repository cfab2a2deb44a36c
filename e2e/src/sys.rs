//! The harness's only unsafe code (the workspace denies it elsewhere): two libc calls behind
//! safe functions.
#![allow(unsafe_code)]

use std::os::unix::process::CommandExt;
use std::process::Command;

/// The child gets SIGKILL when this process dies, even without unwinding (SIGKILL, abort).
pub fn kill_with_parent(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe and the closure allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

/// Sends `signal` to every process of group `pgid` (one this process started).
pub fn signal_group(pgid: i32, signal: i32) {
    // SAFETY: kill() with a negative pid signals a process group; no memory is shared.
    unsafe { libc::kill(-pgid, signal) };
}
