package org.gantry.hub.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.Enumeration;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * The hub's TLS to its broker ({@code mqtt.url = ssl://host:port}): the site CA it trusts ({@code
 * mqtt.ca.file}, PEM) and its own key and certificate ({@code mqtt.keystore.file}, PKCS#12, with
 * {@code mqtt.keystore.password}) for brokers that require client certificates. Read once at
 * activation; a file that cannot be used stops the component with the key named.
 */
final class MqttTls {
  private final SSLSocketFactory sockets;

  private MqttTls(SSLSocketFactory sockets) {
    this.sockets = sockets;
  }

  /** The socket factory for Paho, with TCP_NODELAY; null for plain TCP. */
  SSLSocketFactory sockets() {
    return sockets;
  }

  static MqttTls none() {
    return new MqttTls(null);
  }

  /**
   * Checks the TLS keys against the URL and reads the files.
   *
   * @throws IllegalArgumentException naming the key whose value cannot be used
   */
  static MqttTls of(String url, String caFile, String keystoreFile, String keystorePassword) {
    boolean ssl = url != null && url.startsWith("ssl://");
    boolean ca = caFile != null && !caFile.isBlank();
    boolean ks = keystoreFile != null && !keystoreFile.isBlank();
    if (!ssl) {
      if (ca || ks) {
        throw new IllegalArgumentException(
            "mqtt.ca.file and mqtt.keystore.file need mqtt.url = ssl://host:port, got " + url);
      }
      return none();
    }
    if (!ca) {
      throw new IllegalArgumentException(
          "mqtt.ca.file must name the site CA's PEM certificate for mqtt.url " + url);
    }
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      Collection<? extends Certificate> cas = readCa(Path.of(caFile.trim()));
      int i = 0;
      for (Certificate c : cas) {
        trust.setCertificateEntry("ca-" + i++, c);
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      KeyManagerFactory kmf = null;
      if (ks) {
        char[] password = keystorePassword == null ? new char[0] : keystorePassword.toCharArray();
        KeyStore keys = readKeystore(Path.of(keystoreFile.trim()), password);
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, password);
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return new MqttTls(new NoDelay(context.getSocketFactory()));
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("mqtt TLS cannot be set up: " + e.getMessage(), e);
    }
  }

  private static Collection<? extends Certificate> readCa(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      Collection<? extends Certificate> cas =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (cas.isEmpty()) {
        throw new IllegalArgumentException("mqtt.ca.file " + file + " holds no certificate");
      }
      return cas;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "mqtt.ca.file " + file + " is not a readable PEM certificate: " + e.getMessage(), e);
    }
  }

  private static KeyStore readKeystore(Path file, char[] password) {
    try (InputStream in = Files.newInputStream(file)) {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(in, password);
      boolean hasKey = false;
      for (Enumeration<String> a = keys.aliases(); a.hasMoreElements(); ) {
        hasKey |= keys.isKeyEntry(a.nextElement());
      }
      if (!hasKey) {
        throw new IllegalArgumentException(
            "mqtt.keystore.file " + file + " holds no private key with its certificate");
      }
      return keys;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "mqtt.keystore.file "
              + file
              + " is not a PKCS#12 key store readable with mqtt.keystore.password: "
              + e.getMessage(),
          e);
    }
  }

  /** TLS sockets with TCP_NODELAY (see {@link NoDelaySocketFactory}). */
  private static final class NoDelay extends SSLSocketFactory {
    private final SSLSocketFactory tls;

    NoDelay(SSLSocketFactory tls) {
      this.tls = tls;
    }

    @Override
    public String[] getDefaultCipherSuites() {
      return tls.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
      return tls.getSupportedCipherSuites();
    }

    @Override
    public Socket createSocket(Socket s, String host, int port, boolean autoClose)
        throws IOException {
      return noDelay(tls.createSocket(s, host, port, autoClose));
    }

    @Override
    public Socket createSocket() throws IOException {
      return noDelay(tls.createSocket());
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      return noDelay(tls.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort)
        throws IOException {
      return noDelay(tls.createSocket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      return noDelay(tls.createSocket(host, port));
    }

    @Override
    public Socket createSocket(
        InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
      return noDelay(tls.createSocket(address, port, localAddress, localPort));
    }

    private static Socket noDelay(Socket s) throws IOException {
      s.setTcpNoDelay(true);
      return s;
    }
  }
}
