package org.gantry.broker.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnAckVariableHeader;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttConnectPayload;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttConnectVariableHeader;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listeners clients reach when the broker authenticates or authorises: a mutual-TLS listener
 * and/or a plain TCP one. Each connection's first packet must be a CONNECT; the front end decides
 * the client's principal (the subject CN of its certificate, or the plain listener's configured
 * principal), rewrites the CONNECT so that Moquette sees that principal as the username, this
 * broker's secret as the password and the client id in the principal's namespace (see {@link
 * Principals}), opens a connection to Moquette's internal loopback listener, and from then on
 * relays packets both ways, dropping (and acknowledging in the other side's place) a PUBLISH the
 * ACL does not let the principal write, or no longer lets it read.
 */
// netty: a failed write or close shows in the pipeline (exceptionCaught, channelInactive), which
// every handler here handles; the futures of those calls carry nothing more.
@SuppressWarnings("FutureReturnValueIgnored")
final class FrontEnd implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(FrontEnd.class);

  /** A client that has not sent its CONNECT within this time is dropped. */
  private static final int CONNECT_TIMEOUT_SECONDS = 10;

  private static final int BACKEND_CONNECT_TIMEOUT_MILLIS = 5000;

  /**
   * One listener.
   *
   * @param name for logs: "TLS" or "plain"
   * @param ssl the server's TLS context (client certificates required), or null for plain TCP
   * @param principal the principal of every client of a plain listener; empty for none
   */
  record Listener(String name, String host, int port, SslContext ssl, String principal) {}

  private final EventLoopGroup boss = new NioEventLoopGroup(1);
  private final EventLoopGroup workers = new NioEventLoopGroup(2);
  private final List<Channel> servers = new ArrayList<>();
  private final InetSocketAddress backend;
  private final Principals principals;
  private final Supplier<AclRules> rules;
  private final int maxMessageBytes;

  /**
   * Binds every listener.
   *
   * @param backend Moquette's internal listener
   * @param rules the ACL in force, or null when the ACL is off (everything allowed)
   * @throws UncheckedIOException naming the address when a listener cannot bind
   */
  FrontEnd(
      List<Listener> listeners,
      InetSocketAddress backend,
      Principals principals,
      Supplier<AclRules> rules,
      int maxMessageBytes) {
    this.backend = backend;
    this.principals = principals;
    this.rules = rules;
    this.maxMessageBytes = maxMessageBytes;
    try {
      for (Listener l : listeners) {
        bind(l);
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private void bind(Listener l) {
    ServerBootstrap b =
        new ServerBootstrap()
            .group(boss, workers)
            .channel(NioServerSocketChannel.class)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    if (l.ssl() != null) {
                      SslHandler tls = l.ssl().newHandler(ch.alloc());
                      tls.handshakeFuture()
                          .addListener(
                              f -> {
                                if (!f.isSuccess()) {
                                  LOG.info(
                                      "TLS client {} refused: {}",
                                      ch.remoteAddress(),
                                      f.cause().getMessage());
                                }
                              });
                      ch.pipeline().addLast("tls", tls);
                    }
                    ch.pipeline()
                        .addLast("connectTimeout", new ReadTimeoutHandler(CONNECT_TIMEOUT_SECONDS))
                        .addLast("decoder", new MqttDecoder(maxMessageBytes))
                        .addLast("encoder", MqttEncoder.INSTANCE)
                        .addLast("gate", new ConnectGate(l));
                  }
                });
    ChannelFuture bound = b.bind(l.host(), l.port());
    if (!bound.awaitUninterruptibly(10, TimeUnit.SECONDS) || !bound.isSuccess()) {
      Throwable cause = bound.cause();
      throw new UncheckedIOException(
          new IOException(
              "Could not listen for "
                  + l.name()
                  + " MQTT on "
                  + l.host()
                  + ":"
                  + l.port()
                  + ": "
                  + (cause == null ? "bind timed out" : cause.getMessage()),
              cause));
    }
    servers.add(bound.channel());
  }

  @Override
  public void close() {
    for (Channel c : servers) {
      c.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }

  /** Waits for the CONNECT, rewrites it and hands the connection to Moquette. */
  private final class ConnectGate extends ChannelInboundHandlerAdapter {
    private final Listener listener;
    private final List<Object> pending = new ArrayList<>();
    private boolean connectSeen;
    private Channel toMoquette;

    ConnectGate(Listener listener) {
      this.listener = listener;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (connectSeen) {
        // packets that came right behind the CONNECT: forwarded once Moquette is reached
        pending.add(msg);
        return;
      }
      connectSeen = true;
      ctx.channel().config().setAutoRead(false);
      if (!(msg instanceof MqttConnectMessage connect)) {
        String what =
            msg instanceof MqttMessage m && m.decoderResult().isFailure()
                ? "an undecodable packet (" + m.decoderResult().cause().getMessage() + ")"
                : "a packet that is not CONNECT";
        ReferenceCountUtil.release(msg);
        LOG.info("Client {} sent {} first; closed", remote(ctx), what);
        ctx.close();
        return;
      }
      if (connect.decoderResult().isFailure()) {
        LOG.info(
            "Client {} sent an invalid CONNECT ({}); closed",
            remote(ctx),
            connect.decoderResult().cause().getMessage());
        ctx.close();
        return;
      }
      String principal = principal(ctx);
      if (principal == null) {
        refuse(ctx, "its certificate has no single, non-empty subject CN");
        return;
      }
      String clientId = connect.payload().clientIdentifier();
      MqttConnectVariableHeader h = connect.variableHeader();
      if (h.isWillFlag()
          && rules != null
          && !rules.get().canWrite(principal, clientId, connect.payload().willTopic())) {
        refuse(
            ctx,
            "principal '"
                + principal
                + "' may not publish its will topic '"
                + connect.payload().willTopic()
                + "'");
        return;
      }
      MqttConnectMessage rewritten = rewrite(connect, principal);
      LOG.debug(
          "Client {} connects as principal '{}' with client id '{}'",
          remote(ctx),
          principal,
          clientId);
      ctx.pipeline().remove("connectTimeout");
      Channel client = ctx.channel();
      new Bootstrap()
          .group(client.eventLoop())
          .channel(NioSocketChannel.class)
          .option(ChannelOption.TCP_NODELAY, true)
          .option(ChannelOption.AUTO_READ, false)
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, BACKEND_CONNECT_TIMEOUT_MILLIS)
          .handler(
              new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                  ch.pipeline()
                      .addLast(
                          new MqttDecoder(maxMessageBytes),
                          MqttEncoder.INSTANCE,
                          new ToClient(client, principal, clientId));
                }
              })
          .connect(backend)
          .addListener(
              (ChannelFutureListener) f -> handOver(ctx, f, rewritten, principal, clientId));
    }

    private void handOver(
        ChannelHandlerContext ctx,
        ChannelFuture f,
        MqttConnectMessage connect,
        String principal,
        String clientId) {
      if (!f.isSuccess()) {
        LOG.error(
            "Client {} (principal '{}') dropped: the broker's internal listener {} is not"
                + " reachable: {}",
            remote(ctx),
            principal,
            backend,
            f.cause().getMessage());
        releasePending();
        ctx.close();
        return;
      }
      toMoquette = f.channel();
      if (!ctx.channel().isActive()) {
        releasePending();
        toMoquette.close();
        return;
      }
      toMoquette.writeAndFlush(connect);
      FromClient from = new FromClient(toMoquette, principal, clientId);
      ctx.pipeline().replace(this, "fromClient", from);
      ChannelHandlerContext fromCtx = ctx.pipeline().context(from);
      List<Object> queued = new ArrayList<>(pending);
      pending.clear();
      for (Object o : queued) {
        from.channelRead(fromCtx, o);
      }
      if (queued.isEmpty()) {
        ctx.channel().read();
      }
      toMoquette.read();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      releasePending();
      if (toMoquette != null) {
        toMoquette.close();
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.info(
          "Client {} closed before its CONNECT was handled: {}", remote(ctx), cause.toString());
      ctx.close();
    }

    private void releasePending() {
      pending.forEach(ReferenceCountUtil::release);
      pending.clear();
    }

    /** The principal of this connection, or null when its certificate names none usable. */
    private String principal(ChannelHandlerContext ctx) {
      if (listener.ssl() == null) {
        return listener.principal();
      }
      SslHandler tls = ctx.pipeline().get(SslHandler.class);
      try {
        return Principals.commonName(tls.engine().getSession().getPeerCertificates());
      } catch (SSLPeerUnverifiedException e) {
        return null;
      }
    }

    private void refuse(ChannelHandlerContext ctx, String reason) {
      LOG.info("Client {} refused (not authorized): {}", remote(ctx), reason);
      MqttConnAckMessage nack =
          new MqttConnAckMessage(
              new MqttFixedHeader(MqttMessageType.CONNACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
              new MqttConnAckVariableHeader(
                  MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, false));
      ctx.writeAndFlush(nack).addListener(ChannelFutureListener.CLOSE);
    }

    private String remote(ChannelHandlerContext ctx) {
      return listener.name() + " " + ctx.channel().remoteAddress();
    }
  }

  /**
   * The CONNECT Moquette gets: the principal as username, the secret as password, the client id in
   * the principal's namespace; MQTT 3.1 is forwarded as 3.1.1 (Moquette limits 3.1 client ids to 23
   * characters, which a namespaced id can exceed; the two CONNECTs differ only in the protocol name
   * and level).
   */
  private MqttConnectMessage rewrite(MqttConnectMessage c, String principal) {
    MqttConnectVariableHeader h = c.variableHeader();
    MqttConnectPayload p = c.payload();
    boolean v31 = h.version() == 3;
    MqttConnectVariableHeader header =
        new MqttConnectVariableHeader(
            v31 ? "MQTT" : h.name(),
            v31 ? 4 : h.version(),
            true,
            true,
            h.isWillRetain(),
            h.willQos(),
            h.isWillFlag(),
            h.isCleanSession(),
            h.keepAliveTimeSeconds());
    MqttConnectPayload payload =
        new MqttConnectPayload(
            Principals.internalClientId(principal, p.clientIdentifier()),
            p.willProperties() == null ? MqttProperties.NO_PROPERTIES : p.willProperties(),
            p.willTopic(),
            p.willMessageInBytes(),
            principal,
            principals.secret());
    return new MqttConnectMessage(
        new MqttFixedHeader(MqttMessageType.CONNECT, false, MqttQoS.AT_MOST_ONCE, false, 0),
        header,
        payload);
  }

  /**
   * The client's packets after its CONNECT, on their way to Moquette: a PUBLISH the ACL refuses is
   * dropped here and acknowledged as MQTT 3.1.1 allows (Moquette 0.17 drops it without PUBACK,
   * which would leave the client waiting), everything else is passed on, one read at a time.
   */
  private final class FromClient extends ChannelInboundHandlerAdapter {
    private final Channel toMoquette;
    private final String principal;
    private final String clientId;
    private final Set<Integer> droppedQos2 = new HashSet<>();

    FromClient(Channel toMoquette, String principal, String clientId) {
      this.toMoquette = toMoquette;
      this.principal = principal;
      this.clientId = clientId;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof MqttMessage m && m.decoderResult().isFailure()) {
        ReferenceCountUtil.release(msg);
        LOG.info(
            "Client {} (principal '{}') sent an invalid packet ({}); closed",
            ctx.channel().remoteAddress(),
            principal,
            m.decoderResult().cause().getMessage());
        ctx.close();
        return;
      }
      if (msg instanceof MqttMessage m
          && m.fixedHeader().messageType() == MqttMessageType.CONNECT) {
        // a protocol violation (MQTT-3.1.0-2), and it must never reach Moquette unrewritten
        ReferenceCountUtil.release(msg);
        LOG.info(
            "Client {} (principal '{}') sent a second CONNECT; closed",
            ctx.channel().remoteAddress(),
            principal);
        ctx.close();
        return;
      }
      if (msg instanceof MqttPublishMessage p && rules != null) {
        String topic = p.variableHeader().topicName();
        if (!rules.get().canWrite(principal, clientId, topic)) {
          LOG.debug(
              "Publish to '{}' by principal '{}' refused by the ACL and dropped", topic, principal);
          dropAcknowledged(ctx, p, droppedQos2);
          return;
        }
      }
      if (completedDrop(ctx, msg, droppedQos2)) {
        return;
      }
      relay(ctx, toMoquette, msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (toMoquette.isActive()) {
        toMoquette.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("MQTT connection {} closed: {}", ctx.channel().remoteAddress(), cause.toString());
      ctx.close();
    }
  }

  /**
   * Drops a PUBLISH the ACL refuses and acknowledges it to its sender as if it had been delivered
   * (QoS 1: PUBACK; QoS 2: PUBREC now and PUBCOMP for its PUBREL, see {@link #completedDrop}), so
   * that the sender neither waits nor sends it again; then reads the sender's next packet.
   */
  private static void dropAcknowledged(
      ChannelHandlerContext ctx, MqttPublishMessage p, Set<Integer> droppedQos2) {
    int id = p.variableHeader().packetId();
    MqttQoS qos = p.fixedHeader().qosLevel();
    p.release();
    if (qos == MqttQoS.AT_LEAST_ONCE) {
      ctx.write(ack(MqttMessageType.PUBACK, id));
    } else if (qos == MqttQoS.EXACTLY_ONCE) {
      droppedQos2.add(id);
      ctx.write(ack(MqttMessageType.PUBREC, id));
    }
    ctx.flush();
    ctx.channel().read();
  }

  /** Answers the PUBREL of a dropped QoS 2 PUBLISH with PUBCOMP; false for any other packet. */
  private static boolean completedDrop(
      ChannelHandlerContext ctx, Object msg, Set<Integer> droppedQos2) {
    if (msg instanceof MqttMessage m
        && m.fixedHeader().messageType() == MqttMessageType.PUBREL
        && m.variableHeader() instanceof MqttMessageIdVariableHeader id
        && droppedQos2.remove(id.messageId())) {
      ctx.writeAndFlush(ack(MqttMessageType.PUBCOMP, id.messageId()));
      ctx.channel().read();
      return true;
    }
    return false;
  }

  /**
   * Passes a packet on to the other side and reads the next one from this side once it is written
   * (one packet in flight per direction: a slow reader slows its sender, memory stays bounded);
   * closes this side when the other cannot take it.
   */
  private static void relay(ChannelHandlerContext ctx, Channel target, Object msg) {
    target
        .writeAndFlush(msg)
        .addListener(
            (ChannelFutureListener)
                f -> {
                  if (f.isSuccess()) {
                    ctx.channel().read();
                  } else {
                    ctx.channel().close();
                  }
                });
  }

  private static MqttMessage ack(MqttMessageType type, int packetId) {
    return new MqttMessage(
        new MqttFixedHeader(type, false, MqttQoS.AT_MOST_ONCE, false, 0),
        MqttMessageIdVariableHeader.from(packetId));
  }

  /**
   * Moquette's packets on their way to the client. With the ACL on, a PUBLISH the principal may no
   * longer read (its rules changed after it subscribed; Moquette checks only at SUBSCRIBE) is
   * dropped and acknowledged to Moquette in the client's place, so that nothing stays in flight.
   */
  private final class ToClient extends ChannelInboundHandlerAdapter {
    private final Channel client;
    private final String principal;
    private final String clientId;
    private final Set<Integer> droppedQos2 = new HashSet<>();

    ToClient(Channel client, String principal, String clientId) {
      this.client = client;
      this.principal = principal;
      this.clientId = clientId;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof MqttMessage m && m.decoderResult().isFailure()) {
        ReferenceCountUtil.release(msg);
        LOG.warn(
            "Undecodable packet from the internal broker for principal '{}' ({}); connection closed",
            principal,
            m.decoderResult().cause().getMessage());
        ctx.close();
        return;
      }
      if (msg instanceof MqttPublishMessage p && rules != null) {
        String topic = p.variableHeader().topicName();
        if (!rules.get().canRead(principal, clientId, topic)) {
          LOG.debug(
              "Delivery of '{}' to principal '{}' dropped: the ACL no longer lets it read it",
              topic,
              principal);
          dropAcknowledged(ctx, p, droppedQos2);
          return;
        }
      }
      if (completedDrop(ctx, msg, droppedQos2)) {
        return;
      }
      relay(ctx, client, msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (client.isActive()) {
        client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("Internal connection for principal '{}' closed: {}", principal, cause.toString());
      ctx.close();
    }
  }
}
