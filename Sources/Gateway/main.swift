print("presence-gateway")
