package org.gantry.transport.mqtt.internal;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A misbehaving MQTT server on 127.0.0.1, for what a real broker will not do on cue: it either
 * never answers CONNECT, or answers CONNECT and then never acknowledges anything. It records the
 * packet types it receives.
 */
final class FakeBroker implements AutoCloseable {

  /** How the fake answers. */
  enum Mode {
    /** Accepts the TCP connection, reads CONNECT, never sends CONNACK. */
    SILENT,
    /** Sends CONNACK (accepted), then reads and ignores everything but PINGREQ. */
    NO_ACKS
  }

  private final Mode mode;
  private final ServerSocket server;
  private final Thread acceptor;
  private final List<Socket> clients = new CopyOnWriteArrayList<>();
  private final List<Thread> readers = new CopyOnWriteArrayList<>();
  private final List<Integer> packetTypes = new CopyOnWriteArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();

  FakeBroker(Mode mode) throws IOException {
    this.mode = mode;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.acceptor = new Thread(this::accept, "fake-broker-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  String url() {
    return "tcp://127.0.0.1:" + server.getLocalPort();
  }

  int connections() {
    return connections.get();
  }

  /** MQTT control packet types received so far (3 = PUBLISH, 8 = SUBSCRIBE, ...). */
  List<Integer> packetTypes() {
    return List.copyOf(packetTypes);
  }

  /** Drops every open client connection, as a crashing broker would. */
  void dropClients() throws IOException {
    for (Socket s : clients) {
      s.close();
    }
    clients.clear();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        connections.incrementAndGet();
        clients.add(socket);
        Thread reader = new Thread(() -> serve(socket), "fake-broker-client");
        reader.setDaemon(true);
        readers.add(reader);
        reader.start();
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      while (true) {
        int type = readPacket(in);
        packetTypes.add(type);
        if (type == 1 && mode == Mode.NO_ACKS) {
          out.write(new byte[] {0x20, 0x02, 0x00, 0x00}); // CONNACK, accepted
          out.flush();
        } else if (type == 12) {
          out.write(new byte[] {(byte) 0xD0, 0x00}); // PINGRESP
          out.flush();
        }
      }
    } catch (EOFException | SocketException e) {
      // the client or the test closed the connection
    } catch (IOException e) {
      throw new IllegalStateException("fake broker failed", e);
    }
  }

  /** Reads one MQTT packet and returns its type; the body is skipped. */
  private static int readPacket(InputStream in) throws IOException {
    int header = in.read();
    if (header < 0) {
      throw new EOFException();
    }
    int length = 0;
    int multiplier = 1;
    int digit;
    do {
      digit = in.read();
      if (digit < 0) {
        throw new EOFException();
      }
      length += (digit & 0x7F) * multiplier;
      multiplier *= 128;
    } while ((digit & 0x80) != 0);
    new DataInputStream(in).readFully(new byte[length]);
    return header >> 4;
  }

  @Override
  public void close() throws IOException {
    server.close();
    dropClients();
    try {
      acceptor.join(5_000);
      for (Thread t : readers) {
        t.join(5_000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
