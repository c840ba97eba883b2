# The tutorials' scanners and servers: the serial, threaded and network port scanners, the
# threaded chat server, the simple web server and the threaded HTTP server.
foreach(example port_scanner threaded_port_scanner network_scanner chat_server
                simple_web_server threaded_http_server)
  sockit_example(${example})
endforeach()
