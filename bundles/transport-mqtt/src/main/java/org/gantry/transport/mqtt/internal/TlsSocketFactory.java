package org.gantry.transport.mqtt.internal;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.HandshakeCompletedListener;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * TLS sockets with the rules Gantry insists on, whatever Paho does to them: TLS 1.2 or 1.3 only,
 * hostname verification ("HTTPS" endpoint identification), the configured ALPN protocols (AWS IoT
 * Core serves MQTT on port 443 to clients that offer {@code x-amzn-mqtt-ca}) and {@code
 * TCP_NODELAY}.
 *
 * <p>Paho 1.2.5 calls {@link SSLSocket#setSSLParameters} twice with fresh parameter objects (one
 * for SNI, one for endpoint identification); each would reset the ALPN list and the other's
 * setting. The socket handed to Paho is therefore a wrapper that re-applies our rules on every such
 * call. The wrapper also reports the first application bytes written (Paho's CONNECT), the same
 * signal {@link NoDelaySocketFactory} gives for plain TCP; handshake bytes do not count.
 */
final class TlsSocketFactory extends SSLSocketFactory {

  private final SSLSocketFactory delegate;
  private final String[] protocols;
  private final String[] alpn;
  private final Runnable onFirstWrite;

  TlsSocketFactory(SSLContext context, List<String> alpn, Runnable onFirstWrite) {
    this.delegate = context.getSocketFactory();
    List<String> supported = Arrays.asList(context.getSupportedSSLParameters().getProtocols());
    this.protocols = Tls.PROTOCOLS.stream().filter(supported::contains).toArray(String[]::new);
    this.alpn = alpn.toArray(new String[0]);
    this.onFirstWrite = onFirstWrite;
  }

  @Override
  public Socket createSocket() throws IOException {
    return new GuardedSocket((SSLSocket) delegate.createSocket());
  }

  @Override
  public Socket createSocket(Socket s, String host, int port, boolean autoClose)
      throws IOException {
    s.setTcpNoDelay(true);
    return new GuardedSocket((SSLSocket) delegate.createSocket(s, host, port, autoClose));
  }

  @Override
  public Socket createSocket(String host, int port) throws IOException {
    return connected(delegate.createSocket(host, port));
  }

  @Override
  public Socket createSocket(String host, int port, InetAddress localHost, int localPort)
      throws IOException {
    return connected(delegate.createSocket(host, port, localHost, localPort));
  }

  @Override
  public Socket createSocket(InetAddress host, int port) throws IOException {
    return connected(delegate.createSocket(host, port));
  }

  @Override
  public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
      throws IOException {
    return connected(delegate.createSocket(address, port, localAddress, localPort));
  }

  @Override
  public String[] getDefaultCipherSuites() {
    return delegate.getDefaultCipherSuites();
  }

  @Override
  public String[] getSupportedCipherSuites() {
    return delegate.getSupportedCipherSuites();
  }

  private Socket connected(Socket socket) throws IOException {
    try {
      socket.setTcpNoDelay(true);
      return new GuardedSocket((SSLSocket) socket);
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /** Our rules laid over whatever parameters the caller asked for. */
  SSLParameters enforce(SSLParameters p) {
    p.setProtocols(protocols);
    p.setEndpointIdentificationAlgorithm("HTTPS");
    p.setApplicationProtocols(alpn);
    return p;
  }

  /** Delegates to a JDK SSLSocket; see the class comment for why it exists. */
  private final class GuardedSocket extends SSLSocket {
    private final SSLSocket d;
    private final FirstWrite firstWrite = new FirstWrite(onFirstWrite);
    private InputStream in;

    GuardedSocket(SSLSocket d) {
      this.d = d;
      d.setSSLParameters(enforce(d.getSSLParameters()));
    }

    @Override
    public void setSSLParameters(SSLParameters params) {
      SSLParameters merged = enforce(params);
      if (merged.getServerNames() == null) {
        merged.setServerNames(d.getSSLParameters().getServerNames());
      }
      d.setSSLParameters(merged);
    }

    @Override
    public SSLParameters getSSLParameters() {
      return d.getSSLParameters();
    }

    @Override
    public void connect(SocketAddress endpoint, int timeout) throws IOException {
      d.connect(endpoint, timeout);
      d.setTcpNoDelay(true);
    }

    @Override
    public void connect(SocketAddress endpoint) throws IOException {
      connect(endpoint, 0);
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
      return firstWrite.watch(d.getOutputStream());
    }

    /** Buffered, one stream per socket, as {@link NoDelaySocketFactory}'s plain sockets. */
    @Override
    public synchronized InputStream getInputStream() throws IOException {
      if (in == null) {
        in = new BufferedInputStream(d.getInputStream(), NoDelaySocketFactory.READ_BUFFER_BYTES);
      }
      return in;
    }

    @Override
    public void close() throws IOException {
      d.close();
    }

    @Override
    public boolean isConnected() {
      return d.isConnected();
    }

    @Override
    public boolean isClosed() {
      return d.isClosed();
    }

    @Override
    public boolean isInputShutdown() {
      return d.isInputShutdown();
    }

    @Override
    public boolean isOutputShutdown() {
      return d.isOutputShutdown();
    }

    @Override
    public void shutdownInput() throws IOException {
      d.shutdownInput();
    }

    @Override
    public void shutdownOutput() throws IOException {
      d.shutdownOutput();
    }

    @Override
    public void setSoTimeout(int timeout) throws SocketException {
      d.setSoTimeout(timeout);
    }

    @Override
    public int getSoTimeout() throws SocketException {
      return d.getSoTimeout();
    }

    @Override
    public void setTcpNoDelay(boolean on) throws SocketException {
      d.setTcpNoDelay(on);
    }

    @Override
    public boolean getTcpNoDelay() throws SocketException {
      return d.getTcpNoDelay();
    }

    @Override
    public InetAddress getInetAddress() {
      return d.getInetAddress();
    }

    @Override
    public InetAddress getLocalAddress() {
      return d.getLocalAddress();
    }

    @Override
    public int getPort() {
      return d.getPort();
    }

    @Override
    public int getLocalPort() {
      return d.getLocalPort();
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
      return d.getRemoteSocketAddress();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
      return d.getLocalSocketAddress();
    }

    @Override
    public String[] getSupportedCipherSuites() {
      return d.getSupportedCipherSuites();
    }

    @Override
    public String[] getEnabledCipherSuites() {
      return d.getEnabledCipherSuites();
    }

    @Override
    public void setEnabledCipherSuites(String[] suites) {
      d.setEnabledCipherSuites(suites);
    }

    @Override
    public String[] getSupportedProtocols() {
      return d.getSupportedProtocols();
    }

    @Override
    public String[] getEnabledProtocols() {
      return d.getEnabledProtocols();
    }

    @Override
    public void setEnabledProtocols(String[] requested) {
      // never below TLS 1.2, whoever asks
      d.setEnabledProtocols(protocols);
    }

    @Override
    public SSLSession getSession() {
      return d.getSession();
    }

    @Override
    public SSLSession getHandshakeSession() {
      return d.getHandshakeSession();
    }

    @Override
    public String getApplicationProtocol() {
      return d.getApplicationProtocol();
    }

    @Override
    public void addHandshakeCompletedListener(HandshakeCompletedListener listener) {
      d.addHandshakeCompletedListener(listener);
    }

    @Override
    public void removeHandshakeCompletedListener(HandshakeCompletedListener listener) {
      d.removeHandshakeCompletedListener(listener);
    }

    @Override
    public void startHandshake() throws IOException {
      d.startHandshake();
    }

    @Override
    public void setUseClientMode(boolean mode) {
      d.setUseClientMode(mode);
    }

    @Override
    public boolean getUseClientMode() {
      return d.getUseClientMode();
    }

    @Override
    public void setNeedClientAuth(boolean need) {
      d.setNeedClientAuth(need);
    }

    @Override
    public boolean getNeedClientAuth() {
      return d.getNeedClientAuth();
    }

    @Override
    public void setWantClientAuth(boolean want) {
      d.setWantClientAuth(want);
    }

    @Override
    public boolean getWantClientAuth() {
      return d.getWantClientAuth();
    }

    @Override
    public void setEnableSessionCreation(boolean flag) {
      d.setEnableSessionCreation(flag);
    }

    @Override
    public boolean getEnableSessionCreation() {
      return d.getEnableSessionCreation();
    }

    @Override
    public String toString() {
      return d.toString();
    }
  }
}
