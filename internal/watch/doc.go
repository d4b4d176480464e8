// Package watch reports changes to files and directory trees, debounced:
// albedo's one watching component, used by `albedo serve -watch` for the
// config file and for every local function's code and layers.
//
// # Use
//
// New starts a Watcher; Set gives it its targets (and replaces them: a
// config reload changes the functions); each Change on Changes() names a
// target and the paths that changed; Close stops it. A Target has Files,
// watched through their directories so that an editor that saves by
// writing a new file and renaming it over the old one is seen, and Trees,
// directories watched with everything below them (new subdirectories
// included).
//
// # Events, or polling
//
// Each watched directory uses the operating system's file events
// (fsnotify: inotify on Linux, kqueue on macOS) unless Options.Poll forces
// polling, or events cannot be relied on there, when polling is chosen for
// it and logged with the reason:
//
//   - the directory is on a file system whose changes made elsewhere send
//     no events: NFS, SMB/CIFS, 9p (WSL2's Windows drives), FUSE (sshfs),
//     VirtualBox shared folders (statfs on Linux);
//   - the events cannot be had: the watcher cannot be created (too many
//     inotify instances) or the directory added (fs.inotify.max_user_watches
//     reached: raise it to watch with events);
//   - the event queue overflowed: every target is reported changed once,
//     since changes were lost.
//
// Polling compares every file's size, modification time and mode with the
// previous scan, every Options.PollInterval (500 ms).
//
// # Debounce and ignored files
//
// A target's events are merged until none came for Options.Debounce
// (100 ms), and for at most ten times that, then reported as one Change.
// Ignored everywhere, since they are never code: anything inside .git and
// __pycache__ directories, *.pyc, editor swap and backup files (*.swp,
// *.swo, *.swx, *~, vim's 4913 probe, emacs' .#* locks and #*# autosaves,
// JetBrains' *___jb_tmp___ and *___jb_old___) and .DS_Store; a Target's
// Ignore adds its own (a function's handler file when it is built).
//
// Hold(dir) marks what is written below dir as not a change until its
// release: the outputs of a build, which writes into the code directory it
// was triggered by. Late events of those same paths are dropped for
// Options.Debounce after the release; any other path is a change again at
// once. A file saved there while the build runs counts as an output too;
// save it again. Polling takes the state at the release as its new
// reference.
//
// # Concurrency
//
// A Watcher's methods are safe for concurrent use; one goroutine owns its
// state. Changes are queued, never dropped, while the consumer is busy:
// a target changed again before its Change was taken gets its paths merged
// into the queued one.
package watch
