package org.gantry.launcher;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * Whether the runtime will be able to listen where its configuration says, asked before the
 * framework starts: a component that cannot bind only logs an error inside a runtime that keeps
 * running, while a refusal at start is one clear line and exit status 1. (Another process may still
 * take the port in between; the component then reports it.)
 */
final class PortCheck {

  private PortCheck() {}

  /**
   * @param address host (name or literal, unresolved is fine) and port
   * @param what who wants to listen there, for the message
   * @return empty when a server socket could be bound there just now, else why not
   */
  static Optional<String> problem(InetSocketAddress address, String what) {
    String where = address.getHostString() + ":" + address.getPort();
    InetAddress host;
    try {
      host = InetAddress.getByName(address.getHostString());
    } catch (UnknownHostException e) {
      return Optional.of(
          "cannot listen on " + where + " for " + what + ": unknown host " + e.getMessage());
    }
    // SO_REUSEADDR, as the broker and the HTTP server set it: a port left in TIME_WAIT by a
    // runtime that just stopped is free for them, so it is free here too.
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(host, address.getPort()));
      return Optional.empty();
    } catch (BindException e) {
      return Optional.of(
          "port "
              + address.getPort()
              + " on "
              + address.getHostString()
              + " is in use, so "
              + what
              + " cannot listen there ("
              + e.getMessage()
              + "): is another hub running? Choose another port");
    } catch (IOException e) {
      return Optional.of("cannot listen on " + where + " for " + what + ": " + e.getMessage());
    }
  }
}
