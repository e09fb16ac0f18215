package org.gantry.transport.mqtt.internal;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import javax.net.SocketFactory;

/**
 * Plain TCP sockets with {@code TCP_NODELAY} set. MQTT request/response traffic is many small
 * packets; with Nagle's algorithm and delayed ACKs each exchange waited about 40 ms twice (88 ms
 * per job exchange on loopback, BUILD-NOTES "Latency pitfall").
 *
 * <p>Paho creates an unconnected socket with {@link #createSocket()} and connects it with its own
 * timeout. That socket also reports the first bytes written to it: Paho writes CONNECT only after
 * its connect thread has started all its helper threads, and before that moment a forced disconnect
 * can leave Paho 1.2.5's connect thread waiting forever for a receiver that already stopped.
 */
final class NoDelaySocketFactory extends SocketFactory {

  /** The read buffer of a socket (see {@link WatchedSocket#getInputStream()}). */
  static final int READ_BUFFER_BYTES = 8192;

  private final Runnable onFirstWrite;

  NoDelaySocketFactory() {
    this(() -> {});
  }

  /**
   * @param onFirstWrite run once, on the writing thread, after the first bytes of a socket made by
   *     {@link #createSocket()} went out; must return at once
   */
  NoDelaySocketFactory(Runnable onFirstWrite) {
    this.onFirstWrite = onFirstWrite;
  }

  @Override
  public Socket createSocket() throws IOException {
    return noDelay(new WatchedSocket(onFirstWrite));
  }

  @Override
  public Socket createSocket(String host, int port) throws IOException {
    return noDelay(new Socket(host, port));
  }

  @Override
  public Socket createSocket(String host, int port, InetAddress localHost, int localPort)
      throws IOException {
    return noDelay(new Socket(host, port, localHost, localPort));
  }

  @Override
  public Socket createSocket(InetAddress host, int port) throws IOException {
    return noDelay(new Socket(host, port));
  }

  @Override
  public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
      throws IOException {
    return noDelay(new Socket(address, port, localAddress, localPort));
  }

  private static Socket noDelay(Socket socket) throws IOException {
    try {
      socket.setTcpNoDelay(true);
      return socket;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  private static final class WatchedSocket extends Socket {
    private final FirstWrite firstWrite;
    private InputStream in;

    WatchedSocket(Runnable onFirstWrite) {
      this.firstWrite = new FirstWrite(onFirstWrite);
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
      return firstWrite.watch(super.getOutputStream());
    }

    /**
     * Buffered, one stream per socket: Paho 1.2.5 reads each packet's header a byte at a time
     * straight from the socket, one system call per byte; a buffer turns the few reads of a packet
     * into one. Bytes already buffered must never be stranded, hence the single instance.
     */
    @Override
    public synchronized InputStream getInputStream() throws IOException {
      if (in == null) {
        in = new BufferedInputStream(super.getInputStream(), READ_BUFFER_BYTES);
      }
      return in;
    }
  }
}
