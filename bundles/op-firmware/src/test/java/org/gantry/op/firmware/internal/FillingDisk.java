package org.gantry.op.firmware.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Disk} with little free space: files are real files on the real file system, but once
 * {@code free} bytes have been written into them (all files together), a write stores what still
 * fits and the next one fails the way Linux does on a full disk, with an {@link IOException} "No
 * space left on device". This is the only thing a test cannot make portably (filling a real disk);
 * the extractor and the staging code above it run unchanged.
 */
final class FillingDisk implements Disk {

  private final AtomicLong free;

  FillingDisk(long freeBytes) {
    this.free = new AtomicLong(freeBytes);
  }

  @Override
  public FileChannel createNew(Path file) throws IOException {
    return new Channel(Disk.DEFAULT.createNew(file));
  }

  private final class Channel extends FileChannel {
    private final FileChannel file;

    Channel(FileChannel file) {
      this.file = file;
    }

    /** Takes up to {@code wanted} bytes of the free space; throws when none is left. */
    private int reserve(int wanted) throws IOException {
      while (true) {
        long left = free.get();
        if (left <= 0 && wanted > 0) {
          throw new IOException("No space left on device");
        }
        int granted = (int) Math.min(wanted, left);
        if (free.compareAndSet(left, left - granted)) {
          return granted;
        }
      }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      int granted = reserve(src.remaining());
      ByteBuffer part = src.slice().limit(granted);
      int n = file.write(part);
      src.position(src.position() + n);
      return n;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      long n = 0;
      for (int i = offset; i < offset + length; i++) {
        n += write(srcs[i]);
      }
      return n;
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      int granted = reserve(src.remaining());
      ByteBuffer part = src.slice().limit(granted);
      int n = file.write(part, position);
      src.position(src.position() + n);
      return n;
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count)
        throws IOException {
      throw new IOException("transferFrom is not used by staging");
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return file.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
      return file.read(dsts, offset, length);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return file.read(dst, position);
    }

    @Override
    public long position() throws IOException {
      return file.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
      file.position(newPosition);
      return this;
    }

    @Override
    public long size() throws IOException {
      return file.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      file.truncate(size);
      return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
      file.force(metaData);
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target)
        throws IOException {
      return file.transferTo(position, count, target);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
      throw new IOException("map is not used by staging");
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
      return file.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
      return file.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
      file.close();
    }
  }
}
