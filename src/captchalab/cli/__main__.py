from captchalab.cli import main

main()
