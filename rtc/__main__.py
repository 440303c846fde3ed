from rtc.server import main

main()
